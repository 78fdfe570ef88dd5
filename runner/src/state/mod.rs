//! Where bookmarks and run history live, behind one interface: a SQLite file on this machine
//! (the default, [`crate::state_store`]) or a PostgreSQL database shared by runs on many
//! machines ([`postgres`], `[state] url`). What a run does with a state (a full refresh's
//! surgery, a shard's [`merge`]) is written once, over [`Backend`].

pub mod lock;
pub mod merge;
pub mod postgres;
mod sqlite;

use std::path::PathBuf;

use serde_json::Value;

pub use lock::Shard;

use crate::state_store::{RunRecord, RunStatus, StoreError};

/// Where a pipeline keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (URL or `key=value` settings).
    Postgres(String),
}

/// A problem with the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The SQLite store failed.
    #[error(transparent)]
    Sqlite(#[from] StoreError),
    /// The PostgreSQL store failed.
    #[error(transparent)]
    Postgres(#[from] postgres::PgStoreError),
    /// Another run holds a lock this one needs.
    #[error("{0}")]
    Locked(String),
}

/// Holds a run's locks until dropped.
pub trait Held: Send {}

/// A state store. Every write is durable when it returns; a store whose run lock is gone
/// refuses to write.
pub trait Backend: Send {
    /// Takes the run lock of `pipeline` (of one shard of it, shared with its other shards), or
    /// fails at once naming who holds it.
    fn lock(&self, pipeline: &str, shard: Option<Shard>) -> Result<Box<dyn Held>, StateError>;
    /// A second handle on the same store (and, for PostgreSQL, the same lock), for a thread;
    /// each bookmark it stores also stamps the time in run `run_id`'s history row (where a
    /// killed run's duration ends).
    fn reopen(&self, run_id: i64) -> Result<Box<dyn Backend>, StateError>;
    /// Marks the runs of `pipeline` still `running` as killed, each lasting until its last
    /// stored bookmark; returns how many. Call it holding the pipeline's lock alone.
    fn mark_killed(&self, pipeline: &str) -> Result<usize, StateError>;
    /// The bookmark of `pipeline`, if any.
    fn state(&self, pipeline: &str) -> Result<Option<Value>, StateError>;
    /// Stores `value` as the bookmark of `pipeline`.
    fn set_state(&self, pipeline: &str, value: &Value) -> Result<(), StateError>;
    /// Merges a shard's `value` into the stored bookmark ([`merge::merged`]), `base` being the
    /// state its tap was given, in one transaction.
    fn merge_state(
        &self,
        pipeline: &str,
        base: Option<&Value>,
        value: &Value,
    ) -> Result<(), StateError>;
    /// Stores the bookmark of a full refresh in progress.
    fn set_refresh_state(&self, pipeline: &str, value: &Value) -> Result<(), StateError>;
    /// Forgets the bookmark of an earlier full refresh.
    fn discard_refresh(&self, pipeline: &str) -> Result<(), StateError>;
    /// Ends a successful full refresh (see [`crate::state_store::promoted`]).
    fn promote_refresh(&self, pipeline: &str, streams: Option<&[String]>)
    -> Result<(), StateError>;
    /// Forgets the bookmarks of `pipeline`.
    fn clear_state(&self, pipeline: &str) -> Result<(), StateError>;
    /// Forgets the bookmarks of `streams`; returns the streams that had one.
    fn clear_streams(&self, pipeline: &str, streams: &[String]) -> Result<Vec<String>, StateError>;
    /// Records the start of a run; returns its id.
    fn begin_run(&self, pipeline: &str, started_at: &str) -> Result<i64, StateError>;
    /// Records how a run ended.
    #[allow(clippy::too_many_arguments)]
    fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        seconds: f64,
        records: &Value,
        requests: u64,
        error: Option<&str>,
    ) -> Result<(), StateError>;
    /// The runs of `pipeline`, newest first.
    fn runs(&self, pipeline: &str) -> Result<Vec<RunRecord>, StateError>;
    /// The fingerprint of what dbt read in the last successful dbt run of `pipeline`, with
    /// when it was stored.
    fn dbt_fingerprint(&self, pipeline: &str) -> Result<Option<(Value, String)>, StateError>;
    /// Stores the fingerprint of what a successful dbt run read.
    fn set_dbt_fingerprint(
        &self,
        pipeline: &str,
        fingerprint: &Value,
        at: &str,
    ) -> Result<(), StateError>;
    /// Forgets the dbt fingerprint of `pipeline`: its next run starts dbt.
    fn clear_dbt_fingerprint(&self, pipeline: &str) -> Result<(), StateError>;
    /// The tap whose bookmarks `pipeline` holds (`tap-gitlab`), as recorded by its runs.
    fn tap(&self, pipeline: &str) -> Result<Option<String>, StateError>;
    /// Records the tap whose bookmarks `pipeline` holds.
    fn set_tap(&self, pipeline: &str, tap: &str) -> Result<(), StateError>;
}

/// Opens the store at `location`.
pub fn open(location: &Location) -> Result<Box<dyn Backend>, StateError> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(sqlite::Sqlite::open(path)?),
        Location::Postgres(url) => Box::new(postgres::PgStore::open(url)?),
    })
}
