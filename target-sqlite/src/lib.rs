//! `target-sqlite`: a fast, strict Singer target that loads SQLite.
//!
//! The rules (names, types, flattening, evolution, validation, the STATE loop) are
//! `target-core`'s; this crate is SQLite behind its [`target_core::Backend`] trait.
//!
//! # Layout
//! - [`config`]: the JSON config file and its schema.
//! - [`backend`]: the type map, prepared statements, savepoints and the rejected-records table.
//! - [`db`]: opening the database; [`about`]: `--about`; [`cli`]: the command line.

pub mod about;
pub mod backend;
pub mod cli;
pub mod config;
pub mod db;

use std::io::{BufReader, Write};
use std::process::ExitCode;

use anyhow::Context as _;

pub use config::Config;
pub use target_core::{LoadError, Summary};

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
    let mut backend = backend::Sqlite::new(&conn);
    let summary = target_core::load(&mut backend, &config.settings, input, &mut stdout)?;
    eprint!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// The `target-sqlite` command line: parses arguments from the process, sets up logging on stderr,
/// runs, and turns an error into one line on stderr and exit code 1.
pub fn main() -> ExitCode {
    let args = <cli::Args as clap::Parser>::parse();
    singer::program::init_logging();
    // rusqlite repeats SQLite's error code under its own message: leave that cause out.
    run(args).unwrap_or_else(|e| {
        singer::program::fail("target-sqlite", e.as_ref(), &|cause| {
            cause.is::<rusqlite::ffi::Error>()
        })
    })
}
