//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Loads Singer messages from stdin into PostgreSQL; prints each committed STATE on stdout.
#[derive(Debug, Parser)]
#[command(name = "target-postgres", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// JSON config file (see `--about` for its settings).
    #[arg(long, value_name = "CONFIG.json", required_unless_present = "about")]
    pub config: Option<PathBuf>,
    /// Read messages from this file instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
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
  tap-github --config tap.json | target-postgres --config target.json >> state.jsonl
  target-postgres --config target.json --input messages.singer
  target-postgres --about --format markdown";
