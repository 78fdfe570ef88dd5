//! `tapline runs`: the run history kept in the state database.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::Output;

/// Prints the pipeline's runs, newest first.
pub fn runs(config: &Path, output: Output) -> anyhow::Result<ExitCode> {
    let (name, location) = match crate::plan::state_store_location(config) {
        Ok(location) => location,
        Err(e) => {
            eprintln!("tapline: error: {e}");
            return Ok(ExitCode::from(crate::run::exit::CONFIG));
        }
    };
    let runs = crate::state::open(&location)?.runs(&name)?;
    let mut out = std::io::stdout().lock();
    if output == Output::Json {
        writeln!(out, "{}", serde_json::to_string(&runs)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:>4}  {:<25} {:>8}  {:<12} {:>8}  records",
        "id", "started", "seconds", "status", "requests"
    )?;
    for run in runs {
        let records = run
            .records
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let seconds = run.seconds.map_or("-".to_string(), |s| format!("{s:.2}"));
        writeln!(
            out,
            "{:>4}  {:<25} {seconds:>8}  {:<12} {:>8}  {records}",
            run.id, run.started_at, run.status, run.requests
        )?;
        if let Some(error) = run.error {
            writeln!(out, "      error: {error}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
