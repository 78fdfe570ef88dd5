//! `tap-rest`: any REST API becomes a Singer tap from a definitions file (TOML) and one JSON
//! Schema per stream. Everything API-specific is data: the settings a connector needs, its base
//! URL and headers, authentication, rate limits, requests and paginators, partitions (from
//! settings, list endpoints or a parent stream's records), incremental modes, schemas. The
//! engine holds no convention of any one API.
//!
//! # Layout
//! - [`defs`]: the definitions vocabulary, checked completely when it loads.
//! - [`connector`]: definitions plus schemas, from a file or embedded in a binary.
//! - [`config`]: the config schema the settings make, and the check before any request.
//! - [`engine`]: HTTP, pages, partitions, bookmarks and Singer output.
//! - [`about`]: `--about`; [`cli`]: arguments; [`time`]: timestamps as APIs write them.
//! - [`check`]: `tap-rest check`, one request per stream with diagnostics; [`new`]:
//!   `tap-rest new`, a commented skeleton.
//! - this file: [`run`] and [`main`], shared by `tap-rest` and connectors' own binaries.

pub mod about;
pub mod check;
pub mod cli;
pub mod config;
pub mod connector;
pub mod defs;
pub mod engine;
pub mod new;
pub mod time;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::Value;

pub use engine::Engine;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
}

/// A connector a program carries inside it (a shipped connector's own binary).
#[derive(Debug, Clone, Copy)]
pub struct Carried {
    /// The program's name, `tap-<connector>`.
    pub program: &'static str,
    /// The definitions text.
    pub definitions: &'static str,
    /// (stream name, JSON Schema text) pairs.
    pub schemas: &'static [(&'static str, &'static str)],
}

/// The connectors shipped in `connectors/`, embedded.
pub fn shipped() -> impl Iterator<Item = Carried> {
    embedded::SHIPPED
        .iter()
        .map(|(_, program, definitions, schemas)| Carried {
            program,
            definitions,
            schemas,
        })
}

/// The shipped connector named `name` (its short name, or its program name `tap-<name>`).
pub fn connector(name: &str) -> Option<Carried> {
    embedded::SHIPPED
        .iter()
        .find(|(n, program, ..)| *n == name || *program == name)
        .map(|(_, program, definitions, schemas)| Carried {
            program,
            definitions,
            schemas,
        })
}

impl Carried {
    /// The carried connector, loaded.
    pub fn engine(&self) -> Result<Engine, connector::LoadError> {
        connector::embedded(self.program, self.definitions, self.schemas)
    }
}

/// Runs the command line: a subcommand, `--about`, `--discover`, or a sync to stdout.
pub fn run(args: cli::Args, carried: Option<Carried>) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(cli::Command::Check(check)) => return check::run(&check, carried),
        Some(cli::Command::New(new)) => return new::run(&new),
        None => {}
    }
    let config_text = match &args.config {
        Some(path) => Some((
            path.clone(),
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config {}", path.display()))?,
        )),
        None => None,
    };
    let config_json: Option<Value> = match &config_text {
        Some((path, text)) => Some(
            serde_json::from_str(text)
                .with_context(|| format!("config {}: not JSON", path.display()))?,
        ),
        None => None,
    };
    let (mut engine, program) =
        load_engine(args.definitions.as_deref(), config_json.as_ref(), carried)?;
    if args.about {
        let text = match args.format {
            cli::Format::Json => {
                serde_json::to_string_pretty(&about::about_json(&engine, &program))?
            }
            cli::Format::Markdown => about::about_markdown(&engine, &program),
        };
        writeln!(std::io::stdout().lock(), "{text}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let (Some((config_path, _)), Some(config_json)) = (&config_text, config_json) else {
        anyhow::bail!("--config CONFIG.json is required (see --help)");
    };
    let config = config::check(&engine.defs, &config_json)
        .with_context(|| format!("config {}", config_path.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if engine.needs_preparing() {
        let http = config.http_options(&engine.defs);
        runtime.block_on(engine.prepare(&config.values, http, config.secrets.clone()))?;
    }
    if args.discover {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &engine.discover())?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let catalog = match &args.catalog {
        Some(path) => Some(
            serde_json::from_str::<singer::Catalog>(&read(path, "catalog")?)
                .with_context(|| format!("catalog {}", path.display()))?,
        ),
        None => None,
    };
    let state = match &args.state {
        Some(path) => {
            let text = read(path, "state")?;
            let value: Value = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).with_context(|| format!("state {}", path.display()))?
            };
            singer::State::from_value(value)
                .with_context(|| format!("state {}: not an object", path.display()))?
        }
        None => singer::State::default(),
    };
    let opts = engine::SyncOptions {
        http: config.http_options(&engine.defs),
        settings: config.values.clone(),
        secrets: config.secrets.clone(),
        start_date: config.start_date(),
        lookback: config.lookback(),
        max_concurrency: config.max_concurrency(),
        catalog,
        state,
    };
    let summary = runtime
        .block_on(engine.sync(opts, std::io::stdout()))
        .map_err(|e| match e {
            engine::Error::Unauthorized(m) => {
                anyhow::anyhow!("unauthorized: {m}: check {}", credentials(&engine.defs))
            }
            other => other.into(),
        })?;
    let total: u64 = summary.records.values().sum();
    tracing::info!("synced {total} records with {} requests", summary.requests);
    if !summary.skipped.is_empty() {
        tracing::warn!(
            "{} skipped (not found): {}",
            summary.skipped.len(),
            summary.skipped.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The connector to run and its program name: the definitions given (a file, or a shipped
/// connector's name), else the config's `definitions`, else the one this program carries.
pub fn load_engine(
    definitions: Option<&Path>,
    config: Option<&Value>,
    carried: Option<Carried>,
) -> anyhow::Result<(Engine, String)> {
    let from_config = config
        .and_then(|c| c.get("definitions"))
        .and_then(Value::as_str)
        .map(PathBuf::from);
    let chosen = definitions.or(from_config.as_deref());
    let named = chosen
        .filter(|p| !p.exists())
        .and_then(|p| p.to_str())
        .and_then(connector);
    Ok(match (chosen, named, carried) {
        (Some(_), Some(c), _) => (c.engine()?, c.program.to_owned()),
        (Some(path), None, carried) => {
            let engine = connector::load(path, carried.map_or(&[][..], |c| c.schemas))?;
            let program = format!("tap-{}", engine.defs.connector.name);
            (engine, program)
        }
        (None, _, Some(c)) => (c.engine()?, c.program.to_owned()),
        (None, _, None) => anyhow::bail!(
            "give the definitions file: --definitions FILE.toml (or `definitions` in the config)"
        ),
    })
}

/// The settings that hold credentials, as a hint after a 401.
pub fn credentials(defs: &defs::Definitions) -> String {
    let names: Vec<String> = defs
        .settings
        .iter()
        .filter(|(_, s)| s.secret)
        .map(|(k, s)| match &s.env {
            Some(e) => format!("{k} (or the {e} environment variable)"),
            None => k.clone(),
        })
        .collect();
    if names.is_empty() {
        "the credentials".to_owned()
    } else {
        names.join(", ")
    }
}

fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// A tap's command line: parses arguments from the process, sets up logging on stderr, runs,
/// and turns an error into one line on stderr and exit code 1. A program that carries a
/// connector passes it; started as `tap-<name>` (a link), `tap-rest` is that shipped connector.
pub fn main(carried: Option<Carried>) -> ExitCode {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let by_name = std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
        })
        .and_then(|n| connector(&n));
    let carried = carried.or(by_name);
    let name = carried.map_or("tap-rest", |c| c.program);
    let matches = cli::Args::command().name(name).bin_name(name).get_matches();
    let args = match cli::Args::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    singer::program::init_logging();
    run(args, carried).unwrap_or_else(|e| singer::program::fail(name, e.as_ref(), &|_| false))
}
