//! `tapline`: runs a Singer tap into a Singer target from one TOML pipeline, keeps the
//! bookmarks the target makes durable, then runs dbt.
//!
//! # Layout
//! - [`config`] (the pipeline file as serde data) → [`plan`] (resolved, checked); [`expand`]
//!   does `${VAR}` expansion, [`tap_source`] how `[tap]` names its program.
//! - [`run`]: one run: processes ([`process`]), the forwarder between them ([`forward`]),
//!   stderr relays ([`relay`]), the state store ([`state`]: SQLite [`state_store`] or
//!   PostgreSQL), the report ([`summary`]); children's files in memory ([`handoff`]), or in a
//!   private folder ([`run_dir`]).
//! - [`dbt`]: dbt with the pipeline's environment and its managed venv.
//! - [`commands`]: one module per subcommand; [`cli`]: the arguments.

pub mod about;
pub mod builtin;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dbt;
pub mod embedded;
pub mod estimate;
pub mod executable;
pub mod expand;
pub mod forward;
pub mod handoff;
pub mod plan;
pub mod process;
pub mod progress;
pub mod relay;
pub mod report;
pub mod run;
pub mod run_dir;
pub mod settings_check;
pub mod state;
pub mod state_store;
pub mod summary;
pub mod tap_source;

/// The current UTC time as RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
