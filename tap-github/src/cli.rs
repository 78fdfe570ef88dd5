//! Command-line arguments (Singer conventions).

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Extracts GitHub data as Singer messages on stdout; logs and metrics go to stderr.
#[derive(Debug, Parser)]
#[command(name = "tap-github", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// JSON config file (see `--about` for its settings).
    #[arg(long, value_name = "CONFIG.json", required_unless_present = "about")]
    pub config: Option<PathBuf>,
    /// State to resume from (a Singer STATE value).
    #[arg(long, value_name = "STATE.json")]
    pub state: Option<PathBuf>,
    /// Catalog selecting streams and fields; without one every stream is synced.
    #[arg(long, visible_alias = "properties", value_name = "CATALOG.json")]
    pub catalog: Option<PathBuf>,
    /// Stream definitions to use instead of the embedded ones (their streams need schemas
    /// among the embedded ones).
    #[arg(long, value_name = "STREAMS.toml")]
    pub definitions: Option<PathBuf>,
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
  tap-github --config tap.json --discover > catalog.json
  tap-github --config tap.json --catalog catalog.json --state state.json | target-sqlite --config target.json
  tap-github --about --format markdown";
