//! One module per subcommand; [`dispatch`] picks one and returns the exit code.

pub mod dbt;
pub mod demo;
pub mod init;
pub mod init_connector;
pub mod report;
pub mod run;
pub mod runs;
pub mod state;
pub mod validate;

use std::process::ExitCode;

use crate::cli::{Args, Cmd};
use crate::run::{Interrupt, Options};

/// Runs the chosen subcommand.
pub fn dispatch(args: Args, interrupt: &Interrupt) -> anyhow::Result<ExitCode> {
    match args.command {
        Cmd::Run {
            config,
            full_refresh,
            select,
            no_dbt,
            dbt,
            verbose,
            output,
            quiet,
            shard,
        } => run::run(
            &config,
            &Options {
                full_refresh,
                select,
                no_dbt,
                dbt,
                quiet,
                shard,
                verbose,
            },
            output,
            interrupt,
        ),
        Cmd::Demo { dir, no_dbt } => demo::demo(&dir, no_dbt, interrupt),
        Cmd::Init {
            config,
            connector,
            sets,
            repos,
            orgs,
            start_date,
            api_url,
            force,
        } => init::init(
            &config,
            &init::Choices {
                repos,
                orgs,
                start_date,
                api_url: api_url.unwrap_or_else(|| init::GITHUB_API.to_owned()),
                connector,
                sets,
            },
            force,
        ),
        Cmd::Validate { config, no_dbt } => validate::validate(&config, no_dbt),
        Cmd::Runs { config, output } => runs::runs(&config, output),
        Cmd::Report { config } => report::report(&config),
        Cmd::State { config, action } => state::state(&config, action),
        Cmd::Dbt { config, args } => dbt::dbt(&config, &args),
    }
}
