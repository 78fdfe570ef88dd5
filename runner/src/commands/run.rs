//! `tapline run`.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::Output;
use crate::plan::Plan;
use crate::run::{Interrupt, Options, exit};

/// Loads the pipeline, runs it, prints the report; the exit code says how it went.
pub fn run(
    config: &Path,
    options: &Options,
    output: Output,
    interrupt: &Interrupt,
) -> anyhow::Result<ExitCode> {
    let plan = match Plan::load(config) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("tapline: error: {e}");
            return Ok(ExitCode::from(exit::CONFIG));
        }
    };
    let report = crate::run::run(&plan, options, interrupt)?;
    let mut stdout = std::io::stdout().lock();
    match output {
        Output::Text => write!(stdout, "{report}")?,
        Output::Json => writeln!(stdout, "{}", serde_json::to_string(&report)?)?,
    }
    if let Some(error) = &report.error {
        eprintln!("tapline: error: {error}");
    }
    Ok(ExitCode::from(report.exit_code))
}
