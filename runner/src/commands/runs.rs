//! `tapline runs`: the run history kept in the state database.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::Output;

/// Prints the pipeline's runs, newest first: a table with aligned columns, or one JSON array.
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
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|run| {
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
            [
                run.id.to_string(),
                run.started_at.clone(),
                run.seconds.map_or("-".to_string(), |s| format!("{s:.2}")),
                run.status.clone(),
                run.requests.to_string(),
                records,
            ]
        })
        .collect();
    let header = ["id", "started", "seconds", "status", "requests", "records"].map(String::from);
    let width = |i: usize| {
        std::iter::once(&header)
            .chain(&rows)
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    let line = |r: &[String; 6]| {
        format!(
            "{:>w0$}  {:<w1$}  {:>w2$}  {:<w3$}  {:>w4$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        )
    };
    writeln!(out, "{}", line(&header).trim_end())?;
    for (row, run) in rows.iter().zip(&runs) {
        writeln!(out, "{}", line(row).trim_end())?;
        if let Some(error) = &run.error {
            writeln!(out, "{:w$}  error: {error}", "", w = widths[0])?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
