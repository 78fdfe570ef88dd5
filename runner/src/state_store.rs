//! The state database: each pipeline's bookmark (the newest STATE its target made durable), a
//! bookmark being rebuilt by a full refresh, and the history of runs. Every write is its own
//! transaction with `synchronous = FULL`, so a crash of anything keeps the newest bookmark.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

/// Runs kept per pipeline.
const KEEP_RUNS: i64 = 100;

/// A problem with the state database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("state database {path}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The folder or lock file could not be made.
    #[error("state database {path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Another run of this pipeline holds the lock.
    #[error("pipeline `{0}` is already running (lock {1}); wait for it to finish")]
    Locked(String, PathBuf),
    /// A stored bookmark is not JSON.
    #[error("stored state of pipeline `{0}` is not JSON: {1}")]
    Corrupt(String, serde_json::Error),
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going (or killed without a chance to say so).
    Running,
    /// Load and dbt succeeded.
    Success,
    /// Tap or target failed.
    Failed,
    /// dbt failed after a successful load.
    DbtFailed,
    /// Stopped by Ctrl-C or SIGTERM.
    Interrupted,
}

impl RunStatus {
    /// The status as stored and printed, e.g. `dbt_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::DbtFailed => "dbt_failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// One row of run history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Run id.
    pub id: i64,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Seconds the run took, once finished.
    pub seconds: Option<f64>,
    /// How it ended.
    pub status: String,
    /// Records per stream.
    pub records: Value,
    /// HTTP requests the tap reported.
    pub requests: i64,
    /// The error, if any.
    pub error: Option<String>,
}

/// The open state database.
pub struct StateStore {
    conn: Connection,
    path: PathBuf,
}

/// Holds a pipeline's run lock until dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl StateStore {
    /// Opens (creating it and its folder) the state database.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let sql = |source| StoreError::Sql {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS state (
                 pipeline TEXT NOT NULL, slot TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
                 PRIMARY KEY (pipeline, slot));
             CREATE TABLE IF NOT EXISTS runs (
                 id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, started_at TEXT NOT NULL,
                 seconds REAL, status TEXT NOT NULL, records TEXT NOT NULL DEFAULT '{}',
                 requests INTEGER NOT NULL DEFAULT 0, error TEXT);",
        )
        .map_err(sql)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Takes the run lock of `pipeline`, or fails at once if another run holds it. The lock is
    /// released when the holder exits, however it exits.
    pub fn lock(&self, pipeline: &str) -> Result<RunLock, StoreError> {
        let name: String = pipeline
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = self.path.with_file_name(format!("{name}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(StoreError::Locked(pipeline.to_string(), path))
            }
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Io { path, source }),
        }
    }

    /// The bookmark of `pipeline`, if any.
    pub fn state(&self, pipeline: &str) -> Result<Option<Value>, StoreError> {
        self.slot(pipeline, "current")
    }

    /// Stores `value` as the bookmark of `pipeline`, durably, replacing the previous one.
    pub fn set_state(&self, pipeline: &str, value: &Value) -> Result<(), StoreError> {
        self.put(pipeline, "current", value)
    }

    /// Stores a bookmark of a full refresh in progress; it replaces the bookmark only when the
    /// run succeeds ([`StateStore::promote_refresh`]).
    pub fn set_refresh_state(&self, pipeline: &str, value: &Value) -> Result<(), StoreError> {
        self.put(pipeline, "refresh", value)
    }

    /// Makes the full refresh's bookmark the pipeline's bookmark.
    pub fn promote_refresh(&self, pipeline: &str) -> Result<(), StoreError> {
        let refresh = self.slot(pipeline, "refresh")?;
        self.exec(
            "DELETE FROM state WHERE pipeline = ?1 AND slot = 'current'",
            params![pipeline],
        )?;
        if let Some(value) = refresh {
            self.put(pipeline, "current", &value)?;
        }
        self.exec(
            "DELETE FROM state WHERE pipeline = ?1 AND slot = 'refresh'",
            params![pipeline],
        )
    }

    /// Forgets the bookmarks of `pipeline`.
    pub fn clear_state(&self, pipeline: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM state WHERE pipeline = ?1", params![pipeline])
    }

    /// Records the start of a run; returns its id.
    pub fn begin_run(&self, pipeline: &str, started_at: &str) -> Result<i64, StoreError> {
        self.exec(
            "INSERT INTO runs (pipeline, started_at, status) VALUES (?1, ?2, 'running')",
            params![pipeline, started_at],
        )?;
        let id = self.conn.last_insert_rowid();
        self.exec(
            "DELETE FROM runs WHERE pipeline = ?1 AND id NOT IN
               (SELECT id FROM runs WHERE pipeline = ?1 ORDER BY id DESC LIMIT ?2)",
            params![pipeline, KEEP_RUNS],
        )?;
        Ok(id)
    }

    /// Records how a run ended.
    pub fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        seconds: f64,
        records: &Value,
        requests: u64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE runs SET status = ?2, seconds = ?3, records = ?4, requests = ?5, error = ?6 WHERE id = ?1",
            params![id, status.as_str(), seconds, records.to_string(), i64::try_from(requests).unwrap_or(i64::MAX), error],
        )
    }

    /// The runs of `pipeline`, newest first.
    pub fn runs(&self, pipeline: &str) -> Result<Vec<RunRecord>, StoreError> {
        let sql = |source| StoreError::Sql {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare("SELECT id, started_at, seconds, status, records, requests, error FROM runs WHERE pipeline = ?1 ORDER BY id DESC")
            .map_err(sql)?;
        let rows = stmt
            .query_map([pipeline], |r| {
                let records: String = r.get(4)?;
                Ok(RunRecord {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    seconds: r.get(2)?,
                    status: r.get(3)?,
                    records: serde_json::from_str(&records).unwrap_or(Value::Null),
                    requests: r.get(5)?,
                    error: r.get(6)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn slot(&self, pipeline: &str, slot: &str) -> Result<Option<Value>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM state WHERE pipeline = ?1 AND slot = ?2",
                params![pipeline, slot],
                |r| r.get(0),
            )
            .optional()
            .map_err(|source| StoreError::Sql {
                path: self.path.clone(),
                source,
            })?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(pipeline.to_string(), e))
        })
        .transpose()
    }

    fn put(&self, pipeline: &str, slot: &str, value: &Value) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO state (pipeline, slot, value, updated_at) VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (pipeline, slot) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![pipeline, slot, value.to_string()],
        )
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        self.conn
            .execute(sql, params)
            .map(|_| ())
            .map_err(|source| StoreError::Sql {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> (tempfile::TempDir, StateStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = StateStore::open(&dir.path().join("sub/state.db")).expect("opens");
        (dir, store)
    }

    #[test]
    fn bookmarks_round_trip_per_pipeline() {
        let (_dir, s) = store();
        assert_eq!(s.state("a").expect("reads"), None);
        s.set_state("a", &json!({"bookmarks": {"x": 1}}))
            .expect("writes");
        s.set_state("a", &json!({"bookmarks": {"x": 2}}))
            .expect("writes");
        s.set_state("b", &json!({"other": true})).expect("writes");
        assert_eq!(
            s.state("a").expect("reads"),
            Some(json!({"bookmarks": {"x": 2}}))
        );
        s.clear_state("a").expect("clears");
        assert_eq!(s.state("a").expect("reads"), None);
        assert_eq!(s.state("b").expect("reads"), Some(json!({"other": true})));
    }

    #[test]
    fn full_refresh_replaces_only_when_promoted() {
        let (_dir, s) = store();
        s.set_state("a", &json!(1)).expect("writes");
        s.set_refresh_state("a", &json!(2)).expect("writes");
        assert_eq!(s.state("a").expect("reads"), Some(json!(1)));
        s.promote_refresh("a").expect("promotes");
        assert_eq!(s.state("a").expect("reads"), Some(json!(2)));
        s.promote_refresh("a").expect("promotes nothing");
        assert_eq!(
            s.state("a").expect("reads"),
            None,
            "a refresh that saved no state leaves none"
        );
    }

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let (_dir, s) = store();
        let first = s.lock("github").expect("locks");
        assert!(matches!(s.lock("github"), Err(StoreError::Locked(..))));
        assert!(s.lock("other").is_ok());
        drop(first);
        assert!(s.lock("github").is_ok());
    }

    #[test]
    fn keeps_the_last_hundred_runs() {
        let (_dir, s) = store();
        for i in 0..105 {
            let id = s.begin_run("a", &format!("t{i}")).expect("begins");
            s.finish_run(id, RunStatus::Success, 1.0, &json!({"commits": i}), 3, None)
                .expect("finishes");
        }
        let runs = s.runs("a").expect("lists");
        assert_eq!(runs.len(), 100);
        assert_eq!(runs[0].records, json!({"commits": 104}));
        assert_eq!(runs[0].status, "success");
    }
}
