//! Command-line arguments (Singer conventions, plus `--definitions`), and the subcommands that
//! help write a connector: `check` and `new`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// A Singer tap for any REST API described in a definitions file: Singer messages on stdout,
/// logs and metrics on stderr.
#[derive(Debug, Parser)]
#[command(name = "tap-rest", version, about, after_help = EXAMPLES)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// Helps writing a connector; without one, the program is a Singer tap.
    #[command(subcommand)]
    pub command: Option<Command>,
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

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Asks the API once per stream and shows what the definitions make of the answers.
    ///
    /// For each stream (a child stream: for the first record of its parent's first page): the
    /// request, the status and time, the records at the record path (the first three), the
    /// next page, the bookmark a run would write, and every schema mismatch, with a one-line
    /// explanation of the usual mistakes. Exits 1 when a stream failed or mismatched.
    Check(CheckArgs),
    /// Writes a commented skeleton connector: NAME.toml and schemas/NAME/*.json.
    ///
    /// One paged incremental stream and one child stream, each key explained. Never overwrites
    /// a file.
    New(NewArgs),
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The definitions file, or the name of a shipped connector.
    #[arg(long, value_name = "API.toml")]
    pub definitions: Option<PathBuf>,
    /// JSON config file.
    #[arg(long, value_name = "CONFIG.json")]
    pub config: PathBuf,
    /// Check only this stream (repeatable); a child stream brings its parent.
    #[arg(long, value_name = "NAME")]
    pub stream: Vec<String>,
    /// How the report is printed.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

/// Output of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For a terminal.
    Text,
    /// One JSON document.
    Json,
}

/// Arguments of `new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The connector's short name (lower case letters, digits, `_`): the tap is `tap-NAME`.
    pub name: String,
    /// The folder to write into.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
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
  tap-rest --definitions api.toml --about --format markdown
  tap-rest new myapi
  tap-rest check --definitions myapi.toml --config tap.json";
