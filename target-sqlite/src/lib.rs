//! `target-sqlite`: a fast, strict Singer target that loads SQLite.
//!
//! # Layout
//! - [`config`]: the JSON config file and its schema.
//! - [`names`]: stream and property names → SQLite identifiers.
//! - [`ddl`]: JSON Schema → columns and SQLite types.
//! - [`sink`]: one stream's table, its evolution and its prepared statements.
//! - [`decode`]: the reader thread: parse and validate.
//! - [`loader`]: the loop that commits only at STATE boundaries and echoes each committed STATE.
//! - [`db`]: opening the database; [`about`]: `--about`; [`summary`]: end-of-run counts.

pub mod about;
pub mod cli;
pub mod config;
pub mod db;
pub mod ddl;
pub mod decode;
pub mod loader;
pub mod names;
pub mod sink;
pub mod summary;

use std::io::{BufReader, Write};
use std::process::ExitCode;

use anyhow::Context as _;

pub use config::Config;
pub use loader::{LoadError, load};
pub use summary::Summary;

/// Runs the command line: `--about`, or a load from stdin (or `--input`) into the database.
pub fn run(args: cli::Args) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    if args.about {
        let text = match args.format {
            cli::Format::Json => serde_json::to_string_pretty(&about::about_json())?,
            cli::Format::Markdown => about::about_markdown(),
        };
        writeln!(stdout, "{text}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(config_path) = args.config else {
        anyhow::bail!("--config CONFIG.json is required (see --help)");
    };
    let config = Config::load(&config_path)?;
    let input: Box<dyn std::io::BufRead + Send> = match &args.input {
        Some(path) => Box::new(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path)
                .with_context(|| format!("cannot open input {}", path.display()))?,
        )),
        None => Box::new(BufReader::with_capacity(1 << 20, std::io::stdin())),
    };
    let conn = db::open(&config)?;
    let summary = load(&conn, &config, input, &mut stdout)?;
    eprint!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// The `target-sqlite` command line: parses arguments from the process, sets up logging on stderr,
/// runs, and turns an error into one line on stderr and exit code 1.
pub fn main() -> ExitCode {
    let args = <cli::Args as clap::Parser>::parse();
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TAPLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("target-sqlite: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without the repeats that nested errors bring: a
/// thiserror `source` that the message already shows, or rusqlite's SQLite code under its text.
fn one_line(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        if cause.is::<rusqlite::ffi::Error>() {
            continue;
        }
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text.replace(['\r', '\n'], " ")
}
