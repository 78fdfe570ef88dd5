//! `tapline run`.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::cli::Output;
use crate::commands::validate::checked_plan;
use crate::run::{Interrupt, Options, OtherTapsState, UnknownStreams, exit};
use crate::state::StateError;
use crate::state_store::StoreError;

/// Loads and checks the pipeline, runs it, prints the report; the exit code says how it went.
/// With `--output json` stdout holds exactly one JSON object whatever happens.
pub fn run(
    config: &Path,
    options: &Options,
    output: Output,
    interrupt: &Interrupt,
) -> anyhow::Result<ExitCode> {
    let plan = match checked_plan(config, !options.no_dbt) {
        Ok((plan, _)) => plan,
        Err(problems) => {
            let name = crate::plan::state_location(config)
                .ok()
                .map(|(name, _)| name);
            let text = problems.join("\n");
            return refused(output, name.as_deref(), "config_error", exit::CONFIG, &text);
        }
    };
    let report = match crate::run::run(&plan, options, interrupt) {
        Ok(report) => report,
        Err(e) => {
            let (status, code) = if e.is::<UnknownStreams>() || e.is::<OtherTapsState>() {
                ("config_error", exit::CONFIG)
            } else if matches!(
                e.downcast_ref(),
                Some(StateError::Locked(..) | StateError::Sqlite(StoreError::Locked(..)))
            ) {
                ("locked", exit::LOAD_FAILED)
            } else {
                ("failed", exit::LOAD_FAILED)
            };
            let text = crate::relay::mask(&format!("{e:#}"), &plan.secrets);
            return refused(output, Some(&plan.name), status, code, &text);
        }
    };
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

/// A run that did not start: the error on stderr, and with `--output json` one object on stdout.
fn refused(
    output: Output,
    pipeline: Option<&str>,
    status: &str,
    code: u8,
    error: &str,
) -> anyhow::Result<ExitCode> {
    for line in error.lines() {
        eprintln!("tapline: error: {line}");
    }
    if output == Output::Json {
        let object = json!({
            "pipeline": pipeline,
            "status": status,
            "exit_code": code,
            "error": error,
        });
        writeln!(std::io::stdout().lock(), "{object}")?;
    }
    Ok(ExitCode::from(code))
}
