//! `tap-github`: a Singer tap for GitHub's REST API.
//!
//! GitHub is data here: `streams.toml` (the stream definitions) and `schemas/github/*.json`
//! (one JSON Schema per stream), both embedded, run by the generic [`engine`].
//!
//! # Layout
//! - [`engine`]: the declarative REST stream engine; it never names GitHub or a stream.
//! - [`config`]: the JSON config file, its schema, and its resolution into engine options.
//! - [`cli`]: arguments; [`about`]: `--about`.
//! - this file: the embedded definitions and [`run`].

pub mod about;
pub mod cli;
pub mod config;
pub mod engine;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;

pub use config::Config;

/// The stream definitions, embedded.
pub const STREAMS_TOML: &str = include_str!("../streams.toml");

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/schemas.rs"));
}
pub use embedded::SCHEMAS;

/// The engine loaded with GitHub's definitions and schemas.
pub fn engine() -> Result<engine::Engine, engine::Error> {
    let defs = engine::Definitions::parse(STREAMS_TOML)
        .map_err(|e| engine::Error::Setup(format!("streams.toml: {e}")))?;
    engine::Engine::new(defs, SCHEMAS)
}

/// Runs the command line: `--about`, `--discover`, or a sync to stdout.
pub fn run(args: cli::Args) -> anyhow::Result<ExitCode> {
    if args.about {
        let text = match args.format {
            cli::Format::Json => serde_json::to_string_pretty(&about::about_json())?,
            cli::Format::Markdown => about::about_markdown(),
        };
        writeln!(std::io::stdout().lock(), "{text}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(config_path) = args.config else {
        anyhow::bail!("--config CONFIG.json is required (see --help)");
    };
    let config = Config::load(&config_path)?;
    let engine = match &args.definitions {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read definitions {}", path.display()))?;
            let defs = engine::Definitions::parse(&text)
                .map_err(|e| anyhow::anyhow!("definitions {}: {e}", path.display()))?;
            engine::Engine::new(defs, SCHEMAS)?
        }
        None => engine()?,
    };
    if args.discover {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &engine.discover())?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let catalog = match &args.catalog {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read catalog {}", path.display()))?;
            Some(
                serde_json::from_str::<singer::Catalog>(&text)
                    .with_context(|| format!("catalog {}", path.display()))?,
            )
        }
        None => None,
    };
    let state = match &args.state {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read state {}", path.display()))?;
            let value: serde_json::Value = if text.trim().is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_str(&text).with_context(|| format!("state {}", path.display()))?
            };
            singer::State::from_value(value)
                .with_context(|| format!("state {}: not an object", path.display()))?
        }
        None => singer::State::default(),
    };
    let opts = engine::SyncOptions {
        http: config.http_options(&engine.defs.http.auth_scheme, &engine.defs.http.headers),
        settings: config.settings(),
        start_date: config.start_date.clone(),
        lookback: config.lookback(),
        max_concurrency: config.max_concurrency,
        catalog,
        state,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let summary = runtime
        .block_on(engine.sync(opts, std::io::stdout()))
        .map_err(|e| match e {
            engine::Error::Unauthorized(m) => anyhow::anyhow!(
                "unauthorized: {m}: check auth_token (or the GITHUB_TOKEN environment variable)"
            ),
            other => other.into(),
        })?;
    let total: u64 = summary.records.values().sum();
    tracing::info!("synced {total} records with {} requests", summary.requests);
    Ok(ExitCode::SUCCESS)
}

/// The `tap-github` command line: parses arguments from the process, sets up logging on stderr,
/// runs, and turns an error into one line on stderr and exit code 1.
pub fn main() -> ExitCode {
    let args = <cli::Args as clap::Parser>::parse();
    singer::program::init_logging();
    run(args).unwrap_or_else(|e| singer::program::fail("tap-github", e.as_ref(), &|_| false))
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_definitions_and_schemas_load() {
        let engine = super::engine().expect("streams.toml and schemas agree");
        assert!(engine.defs.streams.len() >= 8);
        assert_eq!(
            super::SCHEMAS.len(),
            engine.defs.streams.len(),
            "one schema per stream, no strays"
        );
    }
}
