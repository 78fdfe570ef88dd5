//! One module per subcommand; [`dispatch`] picks one and returns the exit code.

pub mod dbt;
pub mod run;
pub mod state;

use std::process::ExitCode;

use crate::cli::{Args, Cmd};
use crate::run::Interrupt;

/// Runs the chosen subcommand.
pub fn dispatch(args: Args, interrupt: &Interrupt) -> anyhow::Result<ExitCode> {
    match args.command {
        Cmd::Run {
            config,
            full_refresh,
            select,
            no_dbt,
            output,
        } => run::run(&config, full_refresh, select, no_dbt, output, interrupt),
        Cmd::State { config, action } => state::state(&config, action),
        Cmd::Dbt { config, args } => dbt::dbt(&config, &args),
    }
}
