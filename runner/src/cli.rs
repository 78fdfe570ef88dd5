//! Command-line arguments of `tapline`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Singer ELT: runs a tap into a target from one TOML pipeline, keeps the bookmarks, runs dbt.
#[derive(Debug, Parser)]
#[command(name = "tapline", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the pipeline: tap → target, store bookmarks, then dbt.
    #[command(after_help = RUN_EXAMPLES)]
    Run {
        /// The pipeline file.
        #[arg(short = 'c', long = "config", default_value = "tapline.toml")]
        config: PathBuf,
        /// Re-extract the selected streams (`--select`, else the file's `select`, else all) without
        /// their bookmarks; only when the load succeeds, replace just their bookmarks (every
        /// other stream's is kept; without a selection the whole state is replaced).
        #[arg(long)]
        full_refresh: bool,
        /// Streams to sync, comma-separated (overrides `select` in the file).
        #[arg(long, value_delimiter = ',')]
        select: Option<Vec<String>>,
        /// Skip dbt (same as `--dbt never`).
        #[arg(long)]
        no_dbt: bool,
        /// When dbt runs: `auto` when something it reads changed since its last successful
        /// run (or that cannot be told), `always`, or `never`.
        #[arg(long, value_enum, default_value = "auto")]
        dbt: crate::dbt::decision::DbtMode,
        /// Every line of dbt's output (default: one line, failures in full, the rest in a log).
        #[arg(short, long)]
        verbose: bool,
        /// Summary on stdout: `text`, or `json`: exactly one JSON object (status, exit_code,
        /// error, records, …), also when the run cannot start.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
        /// No progress display on stderr.
        #[arg(short, long)]
        quiet: bool,
        /// Run shard K of N: only the partitions whose stable hash falls in shard K (only
        /// partitioned incremental streams; the others run unsharded), bookmarks merged per
        /// partition, no dbt (run `tapline dbt run` once all shards are done).
        #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with = "full_refresh")]
        shard: Option<crate::state::Shard>,
    },
    /// Check the pipeline, the executables, the tap's and target's configs (against their
    /// `--about` schemas), the dbt project and the state location; runs nothing.
    Validate {
        /// The pipeline file.
        #[arg(short = 'c', long = "config", default_value = "tapline.toml")]
        config: PathBuf,
        /// Do not require the dbt project.
        #[arg(long)]
        no_dbt: bool,
    },
    /// Try tapline on a built-in fake GitHub: no token, no network (dbt installs once).
    #[command(after_help = DEMO_EXAMPLES)]
    Demo {
        /// Folder for the demo's pipeline, database and dbt project.
        #[arg(long, default_value = "tapline-demo")]
        dir: PathBuf,
        /// Skip dbt (fully offline).
        #[arg(long)]
        no_dbt: bool,
    },
    /// Write a commented tapline.toml (and the dbt project) to start from.
    #[command(after_help = INIT_EXAMPLES)]
    Init {
        /// The pipeline file to write.
        #[arg(short = 'c', long = "config", default_value = "tapline.toml")]
        config: PathBuf,
        /// A connector shipped inside tap-rest (github, …) or a definitions file (FILE.toml):
        /// its pipeline, with a dbt project only where one ships (GitHub); default: tap-github.
        #[arg(long, value_name = "NAME|FILE.toml")]
        connector: Option<String>,
        /// A setting of the connector (repeatable; a list: comma-separated), checked against its
        /// schema; every required setting needs one. Secrets are read from the environment.
        #[arg(long = "set", value_name = "KEY=VALUE", requires = "connector")]
        sets: Vec<String>,
        /// A repository to sync, `owner/name` or its GitHub address (repeatable).
        #[arg(long = "repo", value_name = "OWNER/NAME")]
        repos: Vec<String>,
        /// An organization whose repositories to sync (repeatable).
        #[arg(long = "org", value_name = "NAME")]
        orgs: Vec<String>,
        /// Lower bound of the first run (RFC 3339 or YYYY-MM-DD); default: the full history
        /// (init then counts the commits and warns when that takes hours of API quota).
        #[arg(long, value_name = "RFC3339")]
        start_date: Option<String>,
        /// GitHub's API address (GitHub Enterprise: https://HOST/api/v3); default
        /// https://api.github.com.
        #[arg(long)]
        api_url: Option<String>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Run history: start, duration, status, records per stream, requests, error.
    #[command(after_help = RUNS_EXAMPLES)]
    Runs {
        /// The pipeline file.
        #[arg(short = 'c', long = "config", default_value = "tapline.toml")]
        config: PathBuf,
        /// `text`: a table; `json`: one JSON array of runs, newest first, each with id,
        /// started_at, seconds, status, records (per stream), requests and error.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// Write report.html (charts of the marts, no network needed) into the pipeline's folder.
    Report {
        /// The pipeline file.
        #[arg(short = 'c', long = "config", default_value = "tapline.toml")]
        config: PathBuf,
    },
    /// Show, set or clear the stored bookmarks.
    #[command(after_help = STATE_EXAMPLES)]
    State {
        /// The pipeline file.
        #[arg(
            short = 'c',
            long = "config",
            default_value = "tapline.toml",
            global = true
        )]
        config: PathBuf,
        /// What to do with the state.
        #[command(subcommand)]
        action: StateAction,
    },
    /// `tapline dbt install` installs the managed dbt; `tapline dbt ARGS…` runs dbt with the
    /// pipeline's environment (`-c FILE` may come before or after the dbt arguments).
    #[command(after_help = DBT_EXAMPLES)]
    Dbt {
        /// The pipeline file.
        #[arg(short = 'c', long = "config", default_value = "tapline.toml")]
        config: PathBuf,
        /// `install`, or arguments for dbt.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
}

fn parse_shard(text: &str) -> Result<crate::state::Shard, String> {
    crate::state::Shard::parse(text)
}

/// `tapline state` actions.
#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Print the stored state as JSON.
    Show {
        /// The state itself, or wrapped for `meltano state set`.
        #[arg(long, value_enum, default_value = "singer")]
        format: StateFormat,
    },
    /// Store the state in FILE (a Singer state, or Meltano's `{"singer_state": …}`).
    Set {
        /// JSON file with the state.
        file: PathBuf,
    },
    /// Forget the stored state (the next run starts from `start_date`), or with `--select` only
    /// those streams' bookmarks.
    Clear {
        /// Streams whose bookmarks to forget, comma-separated; every other key is kept (a
        /// `currently_syncing` naming one of them becomes null).
        #[arg(long, value_delimiter = ',')]
        select: Option<Vec<String>>,
    },
}

/// How `tapline state show` prints the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateFormat {
    /// The Singer state, as the tap gets it.
    Singer,
    /// Meltano's wrapper, `{"singer_state": STATE}`.
    Meltano,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// JSON, for orchestrators.
    Json,
}

const EXAMPLES: &str = "Examples:
  tapline demo                         # a fake GitHub, two runs, dbt: see it work
  tapline init --repo octo/app         # write tapline.toml
  tapline validate                     # check everything, run nothing
  tapline run                          # tapline.toml in this folder
  tapline runs                         # what happened
  tapline run -c pipelines/github.toml --select commits,issues --no-dbt
  tapline state show
  tapline dbt install
Exit codes: 0 ok, 1 load failed (or the pipeline is already running), 2 config error
(pipeline file, tap/target config, unknown --select stream), 3 dbt failed, 130 interrupted.";

const RUN_EXAMPLES: &str = "Examples:
  tapline run
  tapline run --full-refresh                   # every stream again; the whole state is replaced
  tapline run --full-refresh --select issues   # issues again; the other bookmarks are kept
  tapline run --select commits --output json
  tapline run --shard 2/3                      # one of three workers; then `tapline dbt run`";

const STATE_EXAMPLES: &str = "Examples:
  tapline state show > backup.json
  tapline state set backup.json
  tapline state clear --select issues          # the other streams keep their bookmarks
  tapline state clear                          # everything
  meltano state get dev:tap-github-to-target-sqlite > state.json && tapline state set state.json
  tapline state show --format meltano > state.json && meltano state set --force dev:tap-github-to-target-sqlite --input-file state.json";

const DBT_EXAMPLES: &str = "Examples:
  tapline dbt install
  tapline dbt debug
  tapline dbt run -c pipelines/github.toml --select marts
  tapline dbt docs generate";

const DEMO_EXAMPLES: &str = "Examples:
  tapline demo
  tapline demo --dir /tmp/demo --no-dbt";

const INIT_EXAMPLES: &str = "Examples:
  tapline init --repo rust-lang/rust
  tapline init --org my-company -c pipelines/company.toml
  tapline init --connector github --repo octo/app      # the same, through tap-rest's connector
  tapline init --connector api.toml --set base_url=https://api.example.com -c pipelines/api.toml";

const RUNS_EXAMPLES: &str = "Examples:
  tapline runs
  tapline runs -c pipelines/github.toml --output json | jq '.[0].status'";
