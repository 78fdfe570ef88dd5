//! Bookmarks and run history in PostgreSQL (`[state] url`), so runs on different machines share
//! them. The run lock is an advisory lock held by the store's one connection (TCP keepalives on,
//! so a dead peer is noticed); every write runs on that connection, in a transaction that first
//! checks the session still holds its locks, so a run whose lock was lost (the connection
//! killed or reset, a pooler) writes nothing more and fails.
//!
//! Lock keys are two int4s: the pipeline's (31-bit FNV-1a of its name) and 0 for the pipeline
//! (exclusive for a run, shared by the shards of a sharded run) or K for shard K. Tables:
//! `tapline_state`, `tapline_runs`, `tapline_shards` (the N each running shard was started with).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, NoTls, Transaction};
use serde_json::Value;

use super::lock::{Shard, pipeline_key};
use super::{Backend, Held, StateError, merge};
use crate::state_store::{KEEP_RUNS, KILLED, RunRecord, RunStatus, StoreError, promoted};

/// A problem with the PostgreSQL state store.
#[derive(Debug, thiserror::Error)]
pub enum PgStoreError {
    /// The connection string does not parse.
    #[error("[state] url: not a PostgreSQL connection string: {0}")]
    Url(String),
    /// PostgreSQL failed.
    #[error("state database {at}: {source}")]
    Sql {
        /// `user@host:port/dbname`.
        at: String,
        /// What PostgreSQL said.
        source: postgres::Error,
    },
    /// The run's advisory lock is gone, so nothing more is written.
    #[error(
        "pipeline `{0}` lost its run lock in the state database (its connection ended or was reset); no bookmark is written after that"
    )]
    LockLost(String),
    /// A stored bookmark is not JSON.
    #[error("stored state of pipeline `{0}` is not JSON: {1}")]
    Corrupt(String, serde_json::Error),
    /// State surgery failed (a state that is not an object).
    #[error(transparent)]
    Surgery(#[from] StoreError),
}

/// An advisory lock key this session took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    pipeline: i64,
    part: i64,
}

/// What the store and its lock guards share: the connection and the locks it holds.
struct Session {
    client: Client,
    held: Vec<Key>,
    pipeline: String,
}

/// The PostgreSQL store.
pub struct PgStore {
    session: Arc<Mutex<Session>>,
    at: String,
    /// The run whose history row each stored bookmark stamps ([`Backend::reopen`]).
    run: Option<i64>,
}

/// Releases this run's advisory locks when dropped.
struct PgHeld {
    session: Arc<Mutex<Session>>,
}

impl Held for PgHeld {}

impl Drop for PgHeld {
    fn drop(&mut self) {
        let mut s = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if !s.held.is_empty() {
            s.held.clear();
            let _ = s.client.batch_execute("SELECT pg_advisory_unlock_all()");
        }
    }
}

/// Key of the DDL lock: tables are created by one run at a time.
const DDL_KEY: i64 = 0x7461_706c_696e_6500;

impl PgStore {
    /// Connects to `url` (a URL or `key=value` settings) and creates the tables if missing.
    pub fn open(url: &str) -> Result<Self, PgStoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| PgStoreError::Url(e.to_string()))?;
        config
            .application_name("tapline")
            .connect_timeout(Duration::from_secs(10))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3);
        let at = describe(&config);
        let sql = |source| PgStoreError::Sql {
            at: at.clone(),
            source,
        };
        let mut client = config.connect(NoTls).map_err(sql)?;
        let mut tx = client.transaction().map_err(sql)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_KEY])
            .map_err(sql)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS tapline_state (
                 pipeline text NOT NULL, slot text NOT NULL, value text NOT NULL,
                 updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (pipeline, slot));
             CREATE TABLE IF NOT EXISTS tapline_runs (
                 id bigserial PRIMARY KEY, pipeline text NOT NULL, started_at text NOT NULL,
                 seconds double precision, status text NOT NULL, records text NOT NULL DEFAULT '{}',
                 requests bigint NOT NULL DEFAULT 0, error text);
             CREATE TABLE IF NOT EXISTS tapline_shards (
                 pipeline text NOT NULL, shard bigint NOT NULL, shards bigint NOT NULL,
                 pid integer NOT NULL, PRIMARY KEY (pipeline, shard));
             ALTER TABLE tapline_runs ADD COLUMN IF NOT EXISTS last_state_at timestamptz;",
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(Self {
            session: Arc::new(Mutex::new(Session {
                client,
                held: Vec::new(),
                pipeline: String::new(),
            })),
            at,
            run: None,
        })
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sql(&self, source: postgres::Error) -> PgStoreError {
        PgStoreError::Sql {
            at: self.at.clone(),
            source,
        }
    }

    /// Runs `work` in a transaction that first checks this session still holds its locks.
    fn write<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, PgStoreError>,
    ) -> Result<T, StateError> {
        let mut guard = self.session();
        let s = &mut *guard;
        let pipeline = s.pipeline.clone();
        let lost = || PgStoreError::LockLost(pipeline.clone());
        let held = s.held.clone();
        if !held.is_empty() && s.client.is_closed() {
            return Err(lost().into());
        }
        let mut tx = match s.client.transaction() {
            Ok(tx) => tx,
            Err(_) if !held.is_empty() => return Err(lost().into()),
            Err(e) => return Err(self.sql(e).into()),
        };
        for key in &held {
            let holds: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                       AND pid = pg_backend_pid() AND granted AND objsubid = 2
                       AND classid::bigint = $1 AND objid::bigint = $2)",
                    &[&key.pipeline, &key.part],
                )
                .map(|r| r.get(0))
                .map_err(|_| lost())?;
            if !holds {
                return Err(lost().into());
            }
        }
        let out = match work(&mut tx) {
            Ok(out) => out,
            Err(e) => {
                drop(tx);
                // The locks live on this connection: once it is closed, they are gone too.
                let closed = !held.is_empty() && s.client.is_closed();
                return Err(if closed { lost() } else { e }.into());
            }
        };
        tx.commit().map_err(|e| match held.is_empty() {
            true => self.sql(e),
            false => lost(),
        })?;
        Ok(out)
    }

    fn read(&self, pipeline: &str, slot: &str) -> Result<Option<Value>, StateError> {
        let row = self
            .session()
            .client
            .query_opt(
                "SELECT value FROM tapline_state WHERE pipeline = $1 AND slot = $2",
                &[&pipeline, &slot],
            )
            .map_err(|e| self.sql(e))?;
        Ok(row.map(|r| parse(pipeline, r.get(0))).transpose()?)
    }

    fn try_lock(&self, s: &mut Session, key: Key, shared: bool) -> Result<bool, StateError> {
        let sql = if shared {
            "SELECT pg_try_advisory_lock_shared($1::bigint::int4, $2::bigint::int4)"
        } else {
            "SELECT pg_try_advisory_lock($1::bigint::int4, $2::bigint::int4)"
        };
        let got: bool = s
            .client
            .query_one(sql, &[&key.pipeline, &key.part])
            .map_err(|e| self.sql(e))?
            .get(0);
        if got {
            s.held.push(key);
        }
        Ok(got)
    }

    /// Takes the locks of `shard` (or of the whole pipeline), refusing a shard count that
    /// differs from the running shards'.
    fn take(
        &self,
        s: &mut Session,
        pipeline: &str,
        shard: Option<Shard>,
    ) -> Result<(), StateError> {
        let whole = Key {
            pipeline: pipeline_key(pipeline),
            part: 0,
        };
        let Some(shard) = shard else {
            return match self.try_lock(s, whole, false)? {
                true => Ok(()),
                false => Err(StateError::Locked(format!(
                    "pipeline `{pipeline}` is already running (advisory lock in the state database {}); wait for it to finish",
                    self.at
                ))),
            };
        };
        if !self.try_lock(s, whole, true)? {
            return Err(StateError::Locked(format!(
                "pipeline `{pipeline}` is running unsharded (advisory lock in the state database {}); wait for it to finish",
                self.at
            )));
        }
        let part = i64::try_from(shard.index).unwrap_or(i64::MAX);
        let count = i64::try_from(shard.count).unwrap_or(i64::MAX);
        if !self.try_lock(s, Key { part, ..whole }, false)? {
            return Err(StateError::Locked(format!(
                "shard {}/{} of pipeline `{pipeline}` is already running; wait for it to finish",
                shard.index, shard.count
            )));
        }
        s.client
            .execute(
                "INSERT INTO tapline_shards (pipeline, shard, shards, pid) VALUES ($1, $2, $3, pg_backend_pid())
                 ON CONFLICT (pipeline, shard) DO UPDATE SET shards = excluded.shards, pid = excluded.pid",
                &[&pipeline, &part, &count],
            )
            .map_err(|e| self.sql(e))?;
        let other = s
            .client
            .query_opt(
                "SELECT s.shard, s.shards FROM tapline_shards s WHERE s.pipeline = $1 AND s.shards <> $2
                   AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
                     AND l.objsubid = 2 AND l.pid = s.pid
                     AND l.classid::bigint = $3 AND l.objid::bigint = s.shard)
                 LIMIT 1",
                &[&pipeline, &count, &whole.pipeline],
            )
            .map_err(|e| self.sql(e))?;
        match other {
            Some(row) => Err(StateError::Locked(format!(
                "pipeline `{pipeline}` is running as {} shards (shard {}/{} is running); this run asks for {}: every shard of a run must use the same N",
                row.get::<_, i64>(1),
                row.get::<_, i64>(0),
                row.get::<_, i64>(1),
                shard.count
            ))),
            None => Ok(()),
        }
    }
}

impl Backend for PgStore {
    fn lock(&self, pipeline: &str, shard: Option<Shard>) -> Result<Box<dyn Held>, StateError> {
        let mut guard = self.session();
        if let Err(e) = self.take(&mut guard, pipeline, shard) {
            guard.held.clear();
            let _ = guard
                .client
                .batch_execute("SELECT pg_advisory_unlock_all()");
            return Err(e);
        }
        guard.pipeline = pipeline.to_string();
        Ok(Box::new(PgHeld {
            session: Arc::clone(&self.session),
        }))
    }

    fn reopen(&self, run_id: i64) -> Result<Box<dyn Backend>, StateError> {
        Ok(Box::new(Self {
            session: Arc::clone(&self.session),
            at: self.at.clone(),
            run: Some(run_id),
        }))
    }

    fn mark_killed(&self, pipeline: &str) -> Result<usize, StateError> {
        let n = self
            .session()
            .client
            .execute(
                "UPDATE tapline_runs SET status = 'killed',
                   seconds = greatest(0, extract(epoch FROM last_state_at - started_at::timestamptz)),
                   error = coalesce(error, $2)
                 WHERE pipeline = $1 AND status = 'running'",
                &[&pipeline, &KILLED],
            )
            .map_err(|e| self.sql(e))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn state(&self, pipeline: &str) -> Result<Option<Value>, StateError> {
        self.read(pipeline, "current")
    }

    fn set_state(&self, pipeline: &str, value: &Value) -> Result<(), StateError> {
        self.write(|tx| {
            put(tx, pipeline, "current", value)?;
            stamp(tx, self.run)
        })
    }

    fn merge_state(
        &self,
        pipeline: &str,
        base: Option<&Value>,
        value: &Value,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            let stored = slot_for_update(tx, pipeline, "current")?;
            put(tx, pipeline, "current", &merge::merged(stored, base, value))?;
            stamp(tx, self.run)
        })
    }

    fn set_refresh_state(&self, pipeline: &str, value: &Value) -> Result<(), StateError> {
        self.write(|tx| {
            put(tx, pipeline, "refresh", value)?;
            stamp(tx, self.run)
        })
    }

    fn discard_refresh(&self, pipeline: &str) -> Result<(), StateError> {
        self.write(|tx| delete(tx, pipeline, Some("refresh")))
    }

    fn promote_refresh(
        &self,
        pipeline: &str,
        streams: Option<&[String]>,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            let current = match streams {
                Some(_) => slot_for_update(tx, pipeline, "current")?,
                None => None,
            };
            let refresh = slot_for_update(tx, pipeline, "refresh")?;
            match promoted(pipeline, current, refresh, streams)? {
                Some(value) => put(tx, pipeline, "current", &value)?,
                None => delete(tx, pipeline, Some("current"))?,
            }
            delete(tx, pipeline, Some("refresh"))
        })
    }

    fn clear_state(&self, pipeline: &str) -> Result<(), StateError> {
        self.write(|tx| delete(tx, pipeline, None))
    }

    fn clear_streams(&self, pipeline: &str, streams: &[String]) -> Result<Vec<String>, StateError> {
        self.write(|tx| {
            let Some(current) = slot_for_update(tx, pipeline, "current")? else {
                return Ok(Vec::new());
            };
            let mut state =
                singer::State::from_value(current).map_err(|_| StoreError::NotAnObject {
                    pipeline: pipeline.to_string(),
                    which: "the stored state",
                })?;
            let removed = state.remove_streams(streams);
            put(tx, pipeline, "current", &state.to_value())?;
            Ok(removed)
        })
    }

    fn begin_run(&self, pipeline: &str, started_at: &str) -> Result<i64, StateError> {
        self.write(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO tapline_runs (pipeline, started_at, status) VALUES ($1, $2, 'running') RETURNING id",
                    &[&pipeline, &started_at],
                )
                .map_err(sql)?
                .get(0);
            tx.execute(
                "DELETE FROM tapline_runs WHERE pipeline = $1 AND id NOT IN
                   (SELECT id FROM tapline_runs WHERE pipeline = $1 ORDER BY id DESC LIMIT $2)",
                &[&pipeline, &KEEP_RUNS],
            )
            .map_err(sql)?;
            Ok(id)
        })
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
        let requests = i64::try_from(requests).unwrap_or(i64::MAX);
        self.session()
            .client
            .execute(
                "UPDATE tapline_runs SET status = $2, seconds = $3, records = $4, requests = $5, error = $6 WHERE id = $1",
                &[&id, &status.as_str(), &seconds, &records.to_string(), &requests, &error],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    fn dbt_fingerprint(&self, pipeline: &str) -> Result<Option<(Value, String)>, StateError> {
        Ok(self.read(pipeline, "dbt")?.and_then(|v| {
            let at = v.get("at")?.as_str()?.to_string();
            Some((v.get("fingerprint")?.clone(), at))
        }))
    }

    fn set_dbt_fingerprint(
        &self,
        pipeline: &str,
        fingerprint: &Value,
        at: &str,
    ) -> Result<(), StateError> {
        let value = serde_json::json!({ "fingerprint": fingerprint, "at": at });
        self.write(|tx| put(tx, pipeline, "dbt", &value))
    }

    fn clear_dbt_fingerprint(&self, pipeline: &str) -> Result<(), StateError> {
        self.write(|tx| delete(tx, pipeline, Some("dbt")))
    }

    fn tap(&self, pipeline: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .read(pipeline, "tap")?
            .and_then(|v| v.as_str().map(str::to_owned)))
    }

    fn set_tap(&self, pipeline: &str, tap: &str) -> Result<(), StateError> {
        self.write(|tx| put(tx, pipeline, "tap", &Value::from(tap)))
    }

    fn runs(&self, pipeline: &str) -> Result<Vec<RunRecord>, StateError> {
        let rows = self
            .session()
            .client
            .query(
                "SELECT id, started_at, seconds, status, records, requests, error FROM tapline_runs
                 WHERE pipeline = $1 ORDER BY id DESC",
                &[&pipeline],
            )
            .map_err(|e| self.sql(e))?;
        Ok(rows
            .iter()
            .map(|r| RunRecord {
                id: r.get(0),
                started_at: r.get(1),
                seconds: r.get(2),
                status: r.get(3),
                records: serde_json::from_str(r.get(4)).unwrap_or(Value::Null),
                requests: r.get(5),
                error: r.get(6),
            })
            .collect())
    }
}

/// Errors inside a write transaction: the store's `at` is added by the caller's message.
fn sql(source: postgres::Error) -> PgStoreError {
    PgStoreError::Sql {
        at: "(transaction)".to_string(),
        source,
    }
}

fn parse(pipeline: &str, text: &str) -> Result<Value, PgStoreError> {
    serde_json::from_str(text).map_err(|e| PgStoreError::Corrupt(pipeline.to_string(), e))
}

fn slot_for_update(
    tx: &mut Transaction<'_>,
    pipeline: &str,
    slot: &str,
) -> Result<Option<Value>, PgStoreError> {
    tx.query_opt(
        "SELECT value FROM tapline_state WHERE pipeline = $1 AND slot = $2 FOR UPDATE",
        &[&pipeline, &slot],
    )
    .map_err(sql)?
    .map(|r| parse(pipeline, r.get(0)))
    .transpose()
}

/// Stamps the time of a stored bookmark in run `run`'s history row.
fn stamp(tx: &mut Transaction<'_>, run: Option<i64>) -> Result<(), PgStoreError> {
    if let Some(run) = run {
        tx.execute(
            "UPDATE tapline_runs SET last_state_at = now() WHERE id = $1",
            &[&run],
        )
        .map_err(sql)?;
    }
    Ok(())
}

fn put(
    tx: &mut Transaction<'_>,
    pipeline: &str,
    slot: &str,
    value: &Value,
) -> Result<(), PgStoreError> {
    tx.execute(
        "INSERT INTO tapline_state (pipeline, slot, value, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (pipeline, slot) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        &[&pipeline, &slot, &value.to_string()],
    )
    .map_err(sql)?;
    Ok(())
}

fn delete(
    tx: &mut Transaction<'_>,
    pipeline: &str,
    slot: Option<&str>,
) -> Result<(), PgStoreError> {
    tx.execute(
        "DELETE FROM tapline_state WHERE pipeline = $1 AND ($2::text IS NULL OR slot = $2)",
        &[&pipeline, &slot],
    )
    .map_err(sql)?;
    Ok(())
}

/// `user@host:port/dbname`, never the password.
fn describe(c: &postgres::Config) -> String {
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        c.get_user().unwrap_or(""),
        c.get_dbname().unwrap_or("")
    )
}

#[cfg(test)]
#[path = "../../../target-postgres/testsupport/cluster.rs"]
mod test_cluster;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::test_cluster as cluster;
    use super::*;

    /// The lock's connection ends in the middle of a write (after the lock check): the write
    /// fails as a lost lock, not as a database error.
    #[test]
    fn a_connection_ending_inside_a_write_is_a_lost_lock() {
        let db = cluster::database();
        let store = PgStore::open(&format!(
            "host={} user=postgres dbname={}",
            db.host.display(),
            db.name
        ))
        .unwrap();
        let _held = store.lock("p", None).unwrap();
        let err = store
            .write(|tx| {
                tx.batch_execute("SELECT pg_terminate_backend(pg_backend_pid())")
                    .map_err(sql)
            })
            .unwrap_err();
        assert!(
            err.to_string().contains("pipeline `p` lost its run lock"),
            "{err}"
        );
    }
}
