//! The state database: each pipeline's bookmark (the newest STATE its target made durable), a
//! bookmark being rebuilt by a full refresh, and the history of runs. Every write is its own
//! transaction with `synchronous = FULL`, so a crash of anything keeps the newest bookmark.
//!
//! Per-stream changes (a full refresh of some streams, `tapline state clear --select`) are
//! surgery on the stored state: only the named streams' bookmarks change, everything else is
//! kept as it is ([`promoted`], [`without_streams`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde_json::Value;
use singer::State;

/// Runs kept per pipeline.
pub const KEEP_RUNS: i64 = 100;

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
    /// A state is not a JSON object, so its streams cannot be changed one by one.
    #[error(
        "{which} of pipeline `{pipeline}` is not a JSON object, so its streams cannot be changed one by one; `tapline state clear` or a full refresh of every stream replaces it"
    )]
    NotAnObject {
        /// The pipeline.
        pipeline: String,
        /// Which state: the stored one or the full refresh's.
        which: &'static str,
    },
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
    /// Ended without recording how (SIGKILL, power loss, the OOM killer): found `running` by the
    /// next run of its pipeline.
    Killed,
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
            RunStatus::Killed => "killed",
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

/// The error a killed run is given in the history.
pub const KILLED: &str = "killed: it ended without recording how (SIGKILL, power loss or out of memory); its duration ends at its last stored bookmark";

/// The open state database.
pub struct StateStore {
    conn: Connection,
    path: PathBuf,
    /// The run whose bookmarks this handle stores ([`StateStore::recording_run`]).
    run: Option<i64>,
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
        add_last_state_at(&conn).map_err(sql)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            run: None,
        })
    }

    /// This handle, recording with each bookmark it stores the time in run `id`'s history row:
    /// where a killed run's duration ends.
    pub fn recording_run(self, id: i64) -> Self {
        Self {
            run: Some(id),
            ..self
        }
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
        self.put_in_run(pipeline, "current", value)
    }

    /// Stores a bookmark of a full refresh in progress; it replaces the bookmark only when the
    /// run succeeds ([`StateStore::promote_refresh`]).
    pub fn set_refresh_state(&self, pipeline: &str, value: &Value) -> Result<(), StoreError> {
        self.put_in_run(pipeline, "refresh", value)
    }

    /// Forgets the bookmark of an earlier full refresh that did not succeed, so a new one starts
    /// from nothing.
    pub fn discard_refresh(&self, pipeline: &str) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM state WHERE pipeline = ?1 AND slot = 'refresh'",
            params![pipeline],
        )
    }

    /// Ends a successful full refresh in one transaction: the pipeline's bookmark becomes
    /// [`promoted`] from the stored one and the refresh's (`streams`: the refreshed streams,
    /// `None` for all of them).
    pub fn promote_refresh(
        &self,
        pipeline: &str,
        streams: Option<&[String]>,
    ) -> Result<(), StoreError> {
        let tx = self.immediate()?;
        // Replacing everything needs nothing of the stored state (which may be unreadable).
        let current = match streams {
            Some(_) => self.slot(pipeline, "current")?,
            None => None,
        };
        let refresh = self.slot(pipeline, "refresh")?;
        match promoted(pipeline, current, refresh, streams)? {
            Some(value) => self.put(pipeline, "current", &value)?,
            None => self.exec(
                "DELETE FROM state WHERE pipeline = ?1 AND slot = 'current'",
                params![pipeline],
            )?,
        }
        self.discard_refresh(pipeline)?;
        self.commit(tx)
    }

    /// Forgets the bookmarks of `pipeline`.
    pub fn clear_state(&self, pipeline: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM state WHERE pipeline = ?1", params![pipeline])
    }

    /// Forgets the bookmarks of `streams` only ([`without_streams`]), in one transaction;
    /// returns the streams that had one.
    pub fn clear_streams(
        &self,
        pipeline: &str,
        streams: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let tx = self.immediate()?;
        let Some(current) = self.slot(pipeline, "current")? else {
            return Ok(Vec::new());
        };
        let mut state = as_state(pipeline, current, STORED)?;
        let removed = state.remove_streams(streams);
        self.put(pipeline, "current", &state.to_value())?;
        self.commit(tx)?;
        Ok(removed)
    }

    /// Replaces the bookmark of `pipeline` with `f` of the stored one, in one transaction.
    pub fn update_state(
        &self,
        pipeline: &str,
        f: impl FnOnce(Option<Value>) -> Value,
    ) -> Result<(), StoreError> {
        let tx = self.immediate()?;
        let current = self.slot(pipeline, "current")?;
        self.put(pipeline, "current", &f(current))?;
        self.stamp_run()?;
        self.commit(tx)
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

    /// Marks the runs of `pipeline` still `running` as [`RunStatus::Killed`], each lasting until
    /// its last stored bookmark (unknown without one); returns how many. Call it holding the
    /// pipeline's lock: no run of it is then alive.
    pub fn mark_killed(&self, pipeline: &str) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET status = 'killed',
                   seconds = max(0.0, unixepoch(last_state_at, 'subsec') - unixepoch(started_at, 'subsec')),
                   error = coalesce(error, ?2)
                 WHERE pipeline = ?1 AND status = 'running'",
                params![pipeline, KILLED],
            )
            .map_err(|source| StoreError::Sql {
                path: self.path.clone(),
                source,
            })
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

    /// The fingerprint of what dbt read in the last successful dbt run of `pipeline`, with
    /// when it was stored.
    pub fn dbt_fingerprint(&self, pipeline: &str) -> Result<Option<(Value, String)>, StoreError> {
        Ok(self.slot(pipeline, "dbt")?.and_then(|v| {
            let at = v.get("at")?.as_str()?.to_string();
            Some((v.get("fingerprint")?.clone(), at))
        }))
    }

    /// Stores the fingerprint of what a successful dbt run read.
    pub fn set_dbt_fingerprint(
        &self,
        pipeline: &str,
        fingerprint: &Value,
        at: &str,
    ) -> Result<(), StoreError> {
        let value = serde_json::json!({ "fingerprint": fingerprint, "at": at });
        self.put(pipeline, "dbt", &value)
    }

    /// Forgets the dbt fingerprint of `pipeline`: its next run starts dbt.
    pub fn clear_dbt_fingerprint(&self, pipeline: &str) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM state WHERE pipeline = ?1 AND slot = 'dbt'",
            params![pipeline],
        )
    }

    /// The tap whose bookmarks `pipeline` holds, as recorded by its runs.
    pub fn tap(&self, pipeline: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .slot(pipeline, "tap")?
            .and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Records the tap whose bookmarks `pipeline` holds.
    pub fn set_tap(&self, pipeline: &str, tap: &str) -> Result<(), StoreError> {
        self.put(pipeline, "tap", &Value::from(tap))
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

    /// [`StateStore::put`], and the time in the recorded run's row, in one transaction.
    fn put_in_run(&self, pipeline: &str, slot: &str, value: &Value) -> Result<(), StoreError> {
        if self.run.is_none() {
            return self.put(pipeline, slot, value);
        }
        let tx = self.immediate()?;
        self.put(pipeline, slot, value)?;
        self.stamp_run()?;
        self.commit(tx)
    }

    /// Stamps the recorded run's row with the time, inside the caller's transaction.
    fn stamp_run(&self) -> Result<(), StoreError> {
        if let Some(run) = self.run {
            self.exec(
                "UPDATE runs SET last_state_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
                params![run],
            )?;
        }
        Ok(())
    }

    /// Begins a transaction that takes the write lock at once (a read-modify-write cannot then
    /// lose a race to another writer); the store's own methods run inside it.
    fn immediate(&self) -> Result<Transaction<'_>, StoreError> {
        Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(|source| {
            StoreError::Sql {
                path: self.path.clone(),
                source,
            }
        })
    }

    fn commit(&self, tx: Transaction<'_>) -> Result<(), StoreError> {
        tx.commit().map_err(|source| StoreError::Sql {
            path: self.path.clone(),
            source,
        })
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

/// Adds `runs.last_state_at` (when a run last stored a bookmark) to a database made before it.
fn add_last_state_at(conn: &Connection) -> rusqlite::Result<()> {
    let has = |conn: &Connection| {
        conn.query_row(
            "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'last_state_at'",
            [],
            |r| r.get::<_, i64>(0),
        )
    };
    if has(conn)? > 0 {
        return Ok(());
    }
    // Another tapline may be adding it too: check again under the write lock.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    if has(conn)? == 0 {
        conn.execute_batch("ALTER TABLE runs ADD COLUMN last_state_at TEXT")?;
    }
    tx.commit()
}

const STORED: &str = "the stored state";
const REFRESH: &str = "the full refresh's state";

fn as_state(pipeline: &str, value: Value, which: &'static str) -> Result<State, StoreError> {
    State::from_value(value).map_err(|_| StoreError::NotAnObject {
        pipeline: pipeline.to_string(),
        which,
    })
}

/// The bookmark a successful full refresh leaves. Of every stream (`streams` is `None`): the
/// refresh's state, whole. Of some streams: `current` with each of `streams`' bookmarks taken
/// from `refresh` (removed where it has none), every other stream and top-level key as it was.
pub fn promoted(
    pipeline: &str,
    current: Option<Value>,
    refresh: Option<Value>,
    streams: Option<&[String]>,
) -> Result<Option<Value>, StoreError> {
    let Some(streams) = streams else {
        return Ok(refresh);
    };
    let had_state = current.is_some();
    let mut state = as_state(pipeline, current.unwrap_or(Value::Null), STORED)?;
    let refresh = as_state(pipeline, refresh.unwrap_or(Value::Null), REFRESH)?;
    state.replace_streams(&refresh, streams);
    Ok((had_state || !state.0.is_empty()).then(|| state.to_value()))
}

/// The stored state `current` without the bookmarks of `streams` (and with a `currently_syncing`
/// naming one of them set to null): what the tap of a full refresh of `streams` is given.
pub fn without_streams(
    pipeline: &str,
    current: Value,
    streams: &[String],
) -> Result<Value, StoreError> {
    let mut state = as_state(pipeline, current, STORED)?;
    state.remove_streams(streams);
    Ok(state.to_value())
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
        s.promote_refresh("a", None).expect("promotes");
        assert_eq!(s.state("a").expect("reads"), Some(json!(2)));
        s.promote_refresh("a", None).expect("promotes nothing");
        assert_eq!(
            s.state("a").expect("reads"),
            None,
            "a refresh that saved no state leaves none"
        );
    }

    fn names(streams: &[&str]) -> Vec<String> {
        streams.iter().map(|s| (*s).to_string()).collect()
    }

    /// A Meltano-shaped state: partitions with extra keys, a simple bookmark, other top-level
    /// keys.
    fn stored() -> Value {
        json!({
            "bookmarks": {
                "commits": {"partitions": [{"context": {"repository": "o/a"}, "replication_key": "date",
                                            "replication_key_value": "2024-01-01T00:00:00Z", "etag": "W/\"1\"", "x": [1.5]}]},
                "issues": {"partitions": [{"context": {"repository": "o/a"}, "replication_key_value": "2024-01-01T00:00:00Z"}]},
                "releases": {"version": 3}
            },
            "currently_syncing": "issues",
            "x_tool": {"n": 1}
        })
    }

    #[test]
    fn promoted_replaces_only_the_refreshed_streams() {
        let refresh = json!({
            "bookmarks": {
                "issues": {"partitions": [{"context": {"repository": "o/a"}, "replication_key_value": "2025-01-01T00:00:00Z"}]},
                "commits": {"carried": "forward by the tap, ignored"}
            },
            "currently_syncing": null
        });
        let got = promoted(
            "p",
            Some(stored()),
            Some(refresh.clone()),
            Some(&names(&["issues", "releases"])),
        )
        .expect("objects")
        .expect("a state");
        let mut expected = stored();
        expected["bookmarks"]["issues"] = refresh["bookmarks"]["issues"].clone();
        expected["bookmarks"]
            .as_object_mut()
            .expect("object")
            .remove("releases");
        assert_eq!(got, expected, "releases had no bookmark in the refresh");
        assert_eq!(
            got["bookmarks"]["commits"].to_string(),
            stored()["bookmarks"]["commits"].to_string(),
            "byte for byte"
        );
        // Every stream: the refresh, whole.
        assert_eq!(
            promoted("p", Some(stored()), Some(refresh.clone()), None).expect("any"),
            Some(refresh.clone())
        );
        assert_eq!(
            promoted("p", Some(stored()), None, None).expect("any"),
            None
        );
        // Nothing stored before: only the refreshed streams' bookmarks.
        assert_eq!(
            promoted("p", None, Some(refresh.clone()), Some(&names(&["issues"]))).expect("objects"),
            Some(json!({"bookmarks": {"issues": refresh["bookmarks"]["issues"]}}))
        );
        assert_eq!(
            promoted("p", None, None, Some(&names(&["issues"]))).expect("objects"),
            None
        );
        // A refresh that saved nothing removes the refreshed streams' bookmarks.
        let got = promoted("p", Some(stored()), None, Some(&names(&["issues"])))
            .expect("objects")
            .expect("a state");
        assert!(got["bookmarks"].get("issues").is_none(), "{got}");
        assert_eq!(
            got["bookmarks"]["commits"],
            stored()["bookmarks"]["commits"]
        );
    }

    #[test]
    fn surgery_needs_objects() {
        let err =
            promoted("p", Some(json!([1])), None, Some(&names(&["a"]))).expect_err("not an object");
        assert_eq!(
            err.to_string(),
            "the stored state of pipeline `p` is not a JSON object, so its streams cannot be changed one by one; `tapline state clear` or a full refresh of every stream replaces it"
        );
        assert!(matches!(
            promoted("p", Some(stored()), Some(json!("x")), Some(&names(&["a"]))),
            Err(StoreError::NotAnObject { which: REFRESH, .. })
        ));
        assert!(without_streams("p", json!(3), &names(&["a"])).is_err());
    }

    #[test]
    fn without_streams_is_what_the_tap_of_a_partial_refresh_gets() {
        let got = without_streams("p", stored(), &names(&["issues"])).expect("object");
        let mut expected = stored();
        expected["bookmarks"]
            .as_object_mut()
            .expect("object")
            .remove("issues");
        expected["currently_syncing"] = Value::Null;
        assert_eq!(got, expected);
    }

    #[test]
    fn promotion_is_surgery_and_discards_the_refresh_slot() {
        let (_dir, s) = store();
        s.set_state("a", &stored()).expect("writes");
        s.set_refresh_state("a", &json!({"bookmarks": {"issues": {"v": 2}}}))
            .expect("writes");
        s.promote_refresh("a", Some(&names(&["issues"])))
            .expect("promotes");
        let mut expected = stored();
        expected["bookmarks"]["issues"] = json!({"v": 2});
        assert_eq!(s.state("a").expect("reads"), Some(expected.clone()));
        assert_eq!(s.slot("a", "refresh").expect("reads"), None);

        // A bad refresh fails the promotion and leaves the stored state alone.
        s.set_refresh_state("a", &json!([1])).expect("writes");
        assert!(s.promote_refresh("a", Some(&names(&["issues"]))).is_err());
        assert_eq!(s.state("a").expect("reads"), Some(expected));
        s.discard_refresh("a").expect("discards");
        assert_eq!(s.slot("a", "refresh").expect("reads"), None);
    }

    #[test]
    fn promoting_every_stream_replaces_even_an_unreadable_state() {
        let (_dir, s) = store();
        s.exec(
            "INSERT INTO state (pipeline, slot, value, updated_at) VALUES ('a', 'current', 'not json', '')",
            [],
        )
        .expect("writes");
        assert!(matches!(s.state("a"), Err(StoreError::Corrupt(..))));
        s.set_refresh_state("a", &json!({"bookmarks": {}}))
            .expect("writes");
        assert!(s.promote_refresh("a", Some(&names(&["x"]))).is_err());
        s.promote_refresh("a", None).expect("promotes");
        assert_eq!(s.state("a").expect("reads"), Some(json!({"bookmarks": {}})));
    }

    #[test]
    fn numbers_of_the_other_streams_come_back_unchanged() {
        let (_dir, s) = store();
        let text = r#"{"bookmarks":{"a":{"f":0.30000000000000004,"g":1e-7,"h":5e-324,"u":18446744073709551615,"i":-9007199254740993},"b":{"v":1}}}"#;
        let value: Value = serde_json::from_str(text).expect("json");
        s.set_state("p", &value).expect("writes");
        s.set_refresh_state("p", &json!({"bookmarks": {"b": {"v": 2}}}))
            .expect("writes");
        s.promote_refresh("p", Some(&names(&["b"])))
            .expect("promotes");
        let after = s.state("p").expect("reads").expect("a state");
        assert_eq!(
            after["bookmarks"]["a"].to_string(),
            r#"{"f":0.30000000000000004,"g":1e-7,"h":5e-324,"i":-9007199254740993,"u":18446744073709551615}"#
        );
        assert_eq!(after["bookmarks"]["b"], json!({"v": 2}));
    }

    #[test]
    fn clear_streams_keeps_the_others() {
        let (_dir, s) = store();
        assert!(
            s.clear_streams("a", &names(&["issues"]))
                .expect("nothing stored")
                .is_empty()
        );
        assert_eq!(s.state("a").expect("reads"), None);
        s.set_state("a", &stored()).expect("writes");
        assert_eq!(
            s.clear_streams("a", &names(&["issues", "typo"]))
                .expect("clears"),
            names(&["issues"])
        );
        assert_eq!(
            s.state("a").expect("reads"),
            Some(without_streams("a", stored(), &names(&["issues"])).expect("object"))
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
    fn a_run_left_running_is_killed_and_lasts_until_its_last_bookmark() {
        let (dir, s) = store();
        let stored = s
            .begin_run("a", "2026-01-01T00:00:00.000000000Z")
            .expect("begins");
        let none = s.begin_run("a", "2026-01-01T00:00:00Z").expect("begins");
        let other = s.begin_run("b", "2026-01-01T00:00:00Z").expect("begins");
        let writer = StateStore::open(&dir.path().join("sub/state.db"))
            .expect("opens")
            .recording_run(stored);
        writer.set_state("a", &json!(1)).expect("writes");
        s.exec(
            "UPDATE runs SET last_state_at = '2026-01-01T00:00:02.500Z' WHERE id = ?1",
            params![stored],
        )
        .expect("sets the time");
        let finished = s.begin_run("a", "2026-01-01T00:00:00Z").expect("begins");
        s.finish_run(finished, RunStatus::Failed, 9.0, &json!({}), 0, Some("x"))
            .expect("finishes");
        assert_eq!(s.mark_killed("a").expect("marks"), 2);
        let runs = s.runs("a").expect("lists");
        let by_id = |id| runs.iter().find(|r| r.id == id).expect("row");
        assert_eq!(by_id(stored).status, "killed");
        assert_eq!(by_id(stored).seconds, Some(2.5));
        assert!(
            by_id(stored)
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("killed"))
        );
        assert_eq!(by_id(none).status, "killed");
        assert_eq!(by_id(none).seconds, None, "no bookmark: unknown");
        assert_eq!(by_id(finished).status, "failed");
        assert_eq!(s.runs("b").expect("lists")[0].id, other);
        assert_eq!(s.runs("b").expect("lists")[0].status, "running");
    }

    #[test]
    fn a_bookmark_stamps_only_the_recorded_run() {
        let (dir, s) = store();
        let run = s.begin_run("a", "t").expect("begins");
        let time = |s: &StateStore| -> Option<String> {
            s.conn
                .query_row("SELECT last_state_at FROM runs WHERE id = ?1", [run], |r| {
                    r.get(0)
                })
                .expect("reads")
        };
        s.set_state("a", &json!(1)).expect("writes");
        assert_eq!(time(&s), None, "a handle of no run");
        let writer = StateStore::open(&dir.path().join("sub/state.db"))
            .expect("opens")
            .recording_run(run);
        writer.set_refresh_state("a", &json!(2)).expect("writes");
        assert!(time(&s).is_some());
    }

    #[test]
    fn an_older_database_gets_the_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let old = Connection::open(&path).expect("opens");
        old.execute_batch(
            "CREATE TABLE runs (
                 id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, started_at TEXT NOT NULL,
                 seconds REAL, status TEXT NOT NULL, records TEXT NOT NULL DEFAULT '{}',
                 requests INTEGER NOT NULL DEFAULT 0, error TEXT);
             INSERT INTO runs (pipeline, started_at, status) VALUES ('a', 't', 'running');",
        )
        .expect("old schema");
        drop(old);
        let s = StateStore::open(&path).expect("opens");
        StateStore::open(&path).expect("opens again");
        assert_eq!(s.mark_killed("a").expect("marks"), 1);
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
