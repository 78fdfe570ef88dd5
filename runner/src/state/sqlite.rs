//! [`Backend`] over the SQLite [`StateStore`]; shard locks are files beside the database.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::lock::{FileLocks, Shard};
use super::{Backend, Held, StateError, merge};
use crate::state_store::{RunRecord, RunStatus, StateStore};

/// The SQLite store and its path (for the lock files beside it).
pub struct Sqlite {
    store: StateStore,
    path: PathBuf,
}

impl Sqlite {
    /// Opens (creating it) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        Ok(Self {
            store: StateStore::open(path)?,
            path: path.to_path_buf(),
        })
    }
}

impl Held for crate::state_store::RunLock {}

impl Backend for Sqlite {
    fn lock(&self, pipeline: &str, shard: Option<Shard>) -> Result<Box<dyn Held>, StateError> {
        match shard {
            None => Ok(Box::new(self.store.lock(pipeline)?)),
            Some(shard) => Ok(Box::new(FileLocks::take(&self.path, pipeline, shard)?)),
        }
    }

    fn reopen(&self, run_id: i64) -> Result<Box<dyn Backend>, StateError> {
        let Self { store, path } = Self::open(&self.path)?;
        Ok(Box::new(Self {
            store: store.recording_run(run_id),
            path,
        }))
    }

    fn mark_killed(&self, pipeline: &str) -> Result<usize, StateError> {
        Ok(self.store.mark_killed(pipeline)?)
    }

    fn state(&self, pipeline: &str) -> Result<Option<Value>, StateError> {
        Ok(self.store.state(pipeline)?)
    }

    fn set_state(&self, pipeline: &str, value: &Value) -> Result<(), StateError> {
        Ok(self.store.set_state(pipeline, value)?)
    }

    fn merge_state(
        &self,
        pipeline: &str,
        base: Option<&Value>,
        value: &Value,
    ) -> Result<(), StateError> {
        Ok(self
            .store
            .update_state(pipeline, |stored| merge::merged(stored, base, value))?)
    }

    fn set_refresh_state(&self, pipeline: &str, value: &Value) -> Result<(), StateError> {
        Ok(self.store.set_refresh_state(pipeline, value)?)
    }

    fn discard_refresh(&self, pipeline: &str) -> Result<(), StateError> {
        Ok(self.store.discard_refresh(pipeline)?)
    }

    fn promote_refresh(
        &self,
        pipeline: &str,
        streams: Option<&[String]>,
    ) -> Result<(), StateError> {
        Ok(self.store.promote_refresh(pipeline, streams)?)
    }

    fn clear_state(&self, pipeline: &str) -> Result<(), StateError> {
        Ok(self.store.clear_state(pipeline)?)
    }

    fn clear_streams(&self, pipeline: &str, streams: &[String]) -> Result<Vec<String>, StateError> {
        Ok(self.store.clear_streams(pipeline, streams)?)
    }

    fn begin_run(&self, pipeline: &str, started_at: &str) -> Result<i64, StateError> {
        Ok(self.store.begin_run(pipeline, started_at)?)
    }

    fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        seconds: f64,
        records: &Value,
        requests: u64,
        error: Option<&str>,
    ) -> Result<(), StateError> {
        Ok(self
            .store
            .finish_run(id, status, seconds, records, requests, error)?)
    }

    fn runs(&self, pipeline: &str) -> Result<Vec<RunRecord>, StateError> {
        Ok(self.store.runs(pipeline)?)
    }

    fn dbt_fingerprint(&self, pipeline: &str) -> Result<Option<(Value, String)>, StateError> {
        Ok(self.store.dbt_fingerprint(pipeline)?)
    }

    fn set_dbt_fingerprint(
        &self,
        pipeline: &str,
        fingerprint: &Value,
        at: &str,
    ) -> Result<(), StateError> {
        Ok(self.store.set_dbt_fingerprint(pipeline, fingerprint, at)?)
    }

    fn clear_dbt_fingerprint(&self, pipeline: &str) -> Result<(), StateError> {
        Ok(self.store.clear_dbt_fingerprint(pipeline)?)
    }

    fn tap(&self, pipeline: &str) -> Result<Option<String>, StateError> {
        Ok(self.store.tap(pipeline)?)
    }

    fn set_tap(&self, pipeline: &str, tap: &str) -> Result<(), StateError> {
        Ok(self.store.set_tap(pipeline, tap)?)
    }
}
