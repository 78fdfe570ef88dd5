//! The load loop: messages in, rows into one open transaction, commits only at STATE boundaries,
//! each committed STATE echoed on stdout.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, Statement};
use serde_json::Value;
use singer::{Message, MessageWriter, ReadError};

use crate::config::{Config, OnInvalidRecord};
use crate::decode::{self, Decoded};
use crate::names::{normalise, quote};
use crate::sink::{Outcome, RecordMeta, Sink, SinkError};
use crate::summary::Summary;

/// Table that holds records rejected by validation when `on_invalid_record = "reject"`.
pub const REJECTED_TABLE: &str = "_sdc_rejected_records";

/// How long a STATE may wait at a boundary, and how old the last commit may get, before a commit.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Why a load stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A line could not be read as a Singer message.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A message broke a rule of the protocol or of the target.
    #[error("line {line}: {message}")]
    Input {
        /// The offending line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A stream's schema or table is unusable.
    #[error("line {line}: stream `{stream}`: {source}")]
    Stream {
        /// The SCHEMA or RECORD line.
        line: u64,
        /// The stream.
        stream: String,
        /// What is wrong.
        source: SinkError,
    },
    /// SQLite failed outside any one stream.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// Writing a STATE to stdout failed.
    #[error("cannot write STATE to stdout: {0}")]
    Output(io::Error),
}

/// The loader's state between messages.
struct Loader<'c, W: Write> {
    conn: &'c Connection,
    config: &'c Config,
    out: MessageWriter<W>,
    streams: HashMap<String, Sink<'c>>,
    tables: HashMap<String, String>,
    rejected: Option<Statement<'c>>,
    summary: Summary,
    rows_pending: u64,
    pending_state: Option<Value>,
    state_at_boundary: bool,
    state_since: Instant,
    last_commit: Instant,
    batched_at: String,
    received_at: String,
    sequence: i64,
}

/// Loads Singer messages from `input` into `conn`, echoing committed STATE values to `out`.
/// On error the open transaction is rolled back, so only rows covered by an echoed STATE remain.
pub fn load<W: Write>(
    conn: &Connection,
    config: &Config,
    input: Box<dyn BufRead + Send>,
    out: W,
) -> Result<Summary, LoadError> {
    let started = Instant::now();
    let rx = decode::spawn(input, config.validate_records);
    let mut loader = Loader {
        conn,
        config,
        out: MessageWriter::new(out),
        streams: HashMap::new(),
        tables: HashMap::new(),
        rejected: None,
        summary: Summary::default(),
        rows_pending: 0,
        pending_state: None,
        state_at_boundary: false,
        state_since: started,
        last_commit: started,
        batched_at: now_rfc3339(),
        received_at: now_rfc3339(),
        sequence: initial_sequence(),
    };
    conn.execute_batch("BEGIN")?;
    let result = loader.run(&rx);
    if result.is_err() && !conn.is_autocommit() {
        // Drop the statements first so the rollback is not blocked by one of them.
        loader.streams.clear();
        loader.rejected = None;
        let _ = conn.execute_batch("ROLLBACK");
    }
    result?;
    loader.summary.elapsed = started.elapsed();
    Ok(loader.summary)
}

impl<W: Write> Loader<'_, W> {
    fn run(&mut self, rx: &Receiver<Vec<decode::Item>>) -> Result<(), LoadError> {
        loop {
            let batch = if self.state_at_boundary && self.pending_state.is_some() {
                let wait = COMMIT_INTERVAL.saturating_sub(self.state_since.elapsed());
                match rx.recv_timeout(wait) {
                    Ok(batch) => Some(batch),
                    Err(RecvTimeoutError::Timeout) => {
                        self.commit(true)?;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => None,
                }
            } else {
                rx.recv().ok()
            };
            let Some(batch) = batch else {
                // End of input: everything received is committed, with the last STATE.
                return self.commit(false);
            };
            self.received_at = now_rfc3339();
            for item in batch {
                let Decoded {
                    line,
                    message,
                    invalid,
                } = item?;
                self.handle(line, message, invalid)?;
            }
        }
    }

    fn handle(
        &mut self,
        line: u64,
        message: Message,
        invalid: Option<String>,
    ) -> Result<(), LoadError> {
        self.state_at_boundary = matches!(message, Message::State(_));
        match message {
            Message::Schema(schema) => self.schema(line, schema),
            Message::Record(record) => self.record(line, record, invalid),
            Message::State(state) => {
                self.pending_state = Some(state.value);
                self.state_since = Instant::now();
                if self.rows_pending >= self.config.batch_size_rows
                    || self.last_commit.elapsed() >= COMMIT_INTERVAL
                {
                    self.commit(true)?;
                }
                Ok(())
            }
            Message::ActivateVersion(av) => self.activate_version(line, &av.stream, av.version),
        }
    }

    fn schema(&mut self, line: u64, schema: singer::Schema) -> Result<(), LoadError> {
        let stream_error = |source| LoadError::Stream {
            line,
            stream: schema.stream.clone(),
            source,
        };
        if let Some(known) = self.streams.get(&schema.stream) {
            if known.schema == schema.schema && known.key_properties == schema.key_properties {
                return Ok(());
            }
            if known.key_properties != schema.key_properties {
                return Err(LoadError::Input {
                    line,
                    message: format!(
                        "stream `{}`: key_properties changed from {:?} to {:?}",
                        schema.stream, known.key_properties, schema.key_properties
                    ),
                });
            }
        }
        let table = normalise(&schema.stream);
        let owner = self.tables.get(&table);
        if table == REJECTED_TABLE || owner.is_some_and(|s| *s != schema.stream) {
            let other = owner.map_or(REJECTED_TABLE.to_string(), |s| format!("stream `{s}`"));
            return Err(LoadError::Input {
                line,
                message: format!(
                    "stream `{}` maps to table `{table}`, which {other} already uses",
                    schema.stream
                ),
            });
        }
        // The old statements go before the table may be altered; given warnings stay given.
        let warned = self.streams.remove(&schema.stream).map(|old| old.warned);
        let mut sink = Sink::open(
            self.conn,
            &schema.stream,
            &table,
            &schema.schema,
            &schema.key_properties,
            self.config,
        )
        .map_err(stream_error)?;
        sink.warned = warned.unwrap_or_default();
        self.tables.insert(table, schema.stream.clone());
        self.summary
            .streams
            .entry(schema.stream.clone())
            .or_default();
        self.streams.insert(schema.stream, sink);
        Ok(())
    }

    fn record(
        &mut self,
        line: u64,
        record: singer::Record,
        invalid: Option<String>,
    ) -> Result<(), LoadError> {
        let Some(sink) = self.streams.get_mut(&record.stream) else {
            return Err(LoadError::Input {
                line,
                message: format!("RECORD for stream `{}` before its SCHEMA", record.stream),
            });
        };
        let fields = &record.record;
        if let Some(problem) = invalid.or_else(|| sink.check_keys(fields).err()) {
            return self.invalid(line, &record.stream, &problem, fields);
        }
        self.sequence += 1;
        let deleted_at = fields.get("_sdc_deleted_at").and_then(Value::as_str);
        let meta = RecordMeta {
            extracted_at: record.time_extracted.as_deref(),
            received_at: &self.received_at,
            batched_at: &self.batched_at,
            deleted_at,
            sequence: self.sequence,
            version: record.version,
        };
        let outcome = sink.write(fields, &meta).map_err(|e| LoadError::Stream {
            line,
            stream: record.stream.clone(),
            source: SinkError::Sql(e),
        })?;
        let counts = self.summary.streams.entry(record.stream).or_default();
        match outcome {
            Outcome::Inserted => counts.inserted += 1,
            Outcome::Updated => counts.updated += 1,
        }
        self.rows_pending += 1;
        Ok(())
    }

    fn invalid(
        &mut self,
        line: u64,
        stream: &str,
        problem: &str,
        record: &serde_json::Map<String, Value>,
    ) -> Result<(), LoadError> {
        if self.config.on_invalid_record == OnInvalidRecord::Fail {
            return Err(LoadError::Input {
                line,
                message: format!("stream `{stream}`: {problem}"),
            });
        }
        if self.rejected.is_none() {
            self.conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {} (stream TEXT, line INTEGER, error TEXT, record TEXT, received_at TEXT)",
                quote(REJECTED_TABLE)
            ))?;
            self.rejected = Some(self.conn.prepare(&format!(
                "INSERT INTO {} (stream, line, error, record, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                quote(REJECTED_TABLE)
            ))?);
        }
        if let Some(insert) = self.rejected.as_mut() {
            let line = i64::try_from(line).unwrap_or(i64::MAX);
            let record = serde_json::to_string(record).unwrap_or_default();
            insert.execute(rusqlite::params![
                stream,
                line,
                problem,
                record,
                self.received_at
            ])?;
        }
        tracing::warn!(stream, line, problem, "rejected record");
        self.summary
            .streams
            .entry(stream.to_string())
            .or_default()
            .rejected += 1;
        self.rows_pending += 1;
        Ok(())
    }

    fn activate_version(&mut self, line: u64, stream: &str, version: i64) -> Result<(), LoadError> {
        let Some(known) = self.streams.get_mut(stream) else {
            tracing::warn!(
                stream,
                line,
                "ACTIVATE_VERSION for a stream without SCHEMA; ignored"
            );
            return Ok(());
        };
        let touched = known
            .activate_version(version, self.config.hard_delete, &self.received_at)
            .map_err(|e| LoadError::Stream {
                line,
                stream: stream.to_string(),
                source: SinkError::Sql(e),
            })?;
        match touched {
            Some(n) => {
                self.summary
                    .streams
                    .entry(stream.to_string())
                    .or_default()
                    .deactivated += n as u64
            }
            None => tracing::warn!(
                stream,
                "ACTIVATE_VERSION ignored: add_record_metadata is off"
            ),
        }
        Ok(())
    }

    /// Commits the open transaction, then echoes the pending STATE, then opens the next one
    /// unless input has ended.
    fn commit(&mut self, reopen: bool) -> Result<(), LoadError> {
        self.conn.execute_batch("COMMIT")?;
        self.summary.commits += 1;
        self.rows_pending = 0;
        self.last_commit = Instant::now();
        if let Some(value) = self.pending_state.take() {
            self.out
                .write_state_value(&value)
                .map_err(LoadError::Output)?;
            self.summary.states_echoed += 1;
        }
        if reopen {
            self.batched_at = now_rfc3339();
            self.conn.execute_batch("BEGIN")?;
        }
        Ok(())
    }
}

/// The current UTC time as RFC 3339 with microseconds.
pub fn now_rfc3339() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Microseconds since the epoch: `_sdc_sequence` grows from here, across runs too.
fn initial_sequence() -> i64 {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    i64::try_from(micros).unwrap_or(0)
}
