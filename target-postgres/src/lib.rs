//! `target-postgres`: a fast, strict Singer target that loads PostgreSQL.
//!
//! The rules (names, types, flattening, evolution, validation, the STATE loop) are
//! `target-core`'s; this crate is PostgreSQL behind its [`target_core::Backend`] trait.
//!
//! # Layout
//! - [`config`]: the JSON config file, its schema, the connection and password masking.
//! - [`encode`]: cells → `COPY` text, with each column type's checks and the `\u0000` rule.
//! - [`backend`]: the type map, `COPY`, staging tables and upserts, savepoints.
//! - [`about`]: `--about`; [`cli`]: the command line.

pub mod about;
pub mod backend;
pub mod cli;
pub mod config;
pub mod encode;
pub mod worker;

use std::io::{BufReader, Write};
use std::process::ExitCode;

use anyhow::Context as _;

pub use config::Config;
pub use target_core::{LoadError, Summary};

/// Runs the command line: `--about`, or a load from stdin (or `--input`) into the database.
/// Returns the secrets to mask along with the outcome.
pub fn run(args: cli::Args, secrets: &mut Vec<String>) -> anyhow::Result<ExitCode> {
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
    secrets.extend(config.secrets());
    let input: Box<dyn std::io::BufRead + Send> = match &args.input {
        Some(path) => Box::new(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path)
                .with_context(|| format!("cannot open input {}", path.display()))?,
        )),
        None => Box::new(BufReader::with_capacity(1 << 20, std::io::stdin())),
    };
    let connection = config.connection()?;
    let shown = describe(&connection);
    let client = connection
        .connect(postgres::NoTls)
        .with_context(|| format!("cannot connect to {shown}"))?;
    let mut backend = backend::Postgres::new(client, &config.schema)
        .map_err(|e| anyhow::anyhow!(e))
        .with_context(|| format!("cannot use schema `{}` on {shown}", config.schema))?;
    let summary = target_core::load(&mut backend, &config.settings, input, &mut stdout)?;
    eprint!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// `user@host:port/dbname`, never the password.
fn describe(c: &postgres::Config) -> String {
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        c.get_user().unwrap_or(""),
        c.get_dbname().unwrap_or("")
    )
}

/// The `target-postgres` command line: parses arguments from the process, sets up logging on
/// stderr, runs, and turns an error into one line on stderr (passwords masked) and exit code 1.
pub fn main() -> ExitCode {
    let args = <cli::Args as clap::Parser>::parse();
    singer::program::init_logging();
    let mut secrets = Vec::new();
    match run(args, &mut secrets) {
        Ok(code) => code,
        Err(e) => {
            let line = singer::program::one_line(e.as_ref(), &|_| false);
            eprintln!("target-postgres: error: {}", config::mask(&line, &secrets));
            ExitCode::FAILURE
        }
    }
}
