//! Command-line arguments (Singer conventions, plus `--definitions`).

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// A Singer tap for any REST API described in a definitions file: Singer messages on stdout,
/// logs and metrics on stderr.
#[derive(Debug, Parser)]
#[command(name = "tap-rest", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// The definitions file, or the name of a shipped connector; else the
    /// config's `definitions`, else the connector this program carries.
    #[arg(long, value_name = "API.toml")]
    pub definitions: Option<PathBuf>,
    /// JSON config file (see `--about` for its settings).
    #[arg(long, value_name = "CONFIG.json")]
    pub config: Option<PathBuf>,
    /// State to resume from (a Singer STATE value).
    #[arg(long, value_name = "STATE.json")]
    pub state: Option<PathBuf>,
    /// Catalog selecting streams and fields; without one every stream is synced.
    #[arg(long, visible_alias = "properties", value_name = "CATALOG.json")]
    pub catalog: Option<PathBuf>,
    /// Print the catalog and exit.
    #[arg(long)]
    pub discover: bool,
    /// Print name, version, capabilities and the config schema, then exit.
    #[arg(long)]
    pub about: bool,
    /// Format of `--about`.
    #[arg(long, value_enum, default_value = "json", requires = "about")]
    pub format: Format,
}

/// Output format of `--about`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// JSON, as the Meltano SDK prints it.
    Json,
    /// Markdown, for documentation.
    Markdown,
}

const EXAMPLES: &str = "Examples:
  tap-rest --definitions api.toml --config tap.json --discover > catalog.json
  tap-rest --definitions api.toml --config tap.json --catalog catalog.json --state state.json | target-sqlite --config target.json
  tap-rest --definitions api.toml --about --format markdown";
