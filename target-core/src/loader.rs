//! The load loop: messages in, rows into one open transaction, commits only at STATE boundaries,
//! every STATE whose rows are committed echoed on stdout, in order.
//!
//! A STATE commits when `batch_size_rows` rows are pending or the last commit is a second old,
//! or after it has waited a second with no further message; end of input always commits. Every
//! other STATE marks a savepoint: when the input turns out bad later (an invalid record with
//! `on_invalid_record = "fail"`, a line that is not a message, a protocol error), the loader
//! rolls back to the last savepoint, commits and echoes the STATEs received so far, then fails.
//! A database error rolls the whole open transaction back.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use sha2::Digest as _;
use singer::{Message, ReadError};

use crate::backend::{Backend, Counts, DbError, Rejected, WriteError};
use crate::columns::{self, Kind, SchemaError};
use crate::decode::{self, Decoded};
use crate::evolution::{self, EvolutionError, Source, Wanted};
use crate::names::{fit, normalise};
use crate::numbers::{self, Wide};
use crate::row::{METADATA_COLUMNS, RecordMeta, RowPlan};
use crate::settings::{OnInvalidRecord, Settings};
use crate::summary::Summary;

/// Table that holds records rejected when `on_invalid_record = "reject"`.
pub const REJECTED_TABLE: &str = "_sdc_rejected_records";

/// How long a STATE may wait at a boundary, and how old the last commit may get, before a commit.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// A problem with a stream's schema or table that stops the load.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The schema cannot be mapped to columns.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A key property is not a top-level scalar property of the schema.
    #[error("key property `{0}` is not a declared top-level scalar property")]
    UnknownKey(String),
    /// The existing table cannot take the schema.
    #[error(transparent)]
    Evolution(#[from] EvolutionError),
    /// The database refused a statement.
    #[error("database: {0}")]
    Db(#[source] DbError),
}

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
    /// The database failed outside any one stream.
    #[error("database: {0}")]
    Database(#[source] DbError),
    /// Writing a STATE to stdout failed.
    #[error("cannot write STATE to stdout: {0}")]
    Output(io::Error),
}

impl LoadError {
    /// Whether the input is at fault (the database is fine), so what the last STATE received
    /// covers can still be committed.
    fn is_input(&self) -> bool {
        match self {
            LoadError::Read(_) | LoadError::Input { .. } => true,
            LoadError::Stream { source, .. } => !matches!(source, SinkError::Db(_)),
            LoadError::Database(_) | LoadError::Output(_) => false,
        }
    }
}

/// One stream's table and how records become its rows.
struct Stream<T> {
    schema: Value,
    key_properties: Vec<String>,
    plan: RowPlan,
    /// Undeclared properties already warned about; a later SCHEMA's stream takes them over.
    warned: HashSet<String>,
    table: T,
}

/// The loader's state between messages.
struct Loader<'b, B: Backend, W: Write> {
    backend: &'b mut B,
    settings: &'b Settings,
    out: W,
    streams: HashMap<String, Stream<B::Table>>,
    tables: HashMap<String, String>,
    summary: Summary,
    rows_pending: u64,
    /// STATE values (exact JSON text) received since the last commit, oldest first.
    pending_states: Vec<String>,
    /// A savepoint exists in the open transaction.
    savepoint: bool,
    /// Rows or tables changed since the last savepoint (or the transaction's start).
    dirty: bool,
    state_at_boundary: bool,
    state_since: Instant,
    last_commit: Instant,
    batched_at: String,
    received_at: String,
    sequence: i64,
}

/// Loads Singer messages from `input` through `backend`, echoing committed STATE values to
/// `out`. On bad input, what the last STATE received covers is committed and echoed before the
/// error is returned; on a database error the open transaction is rolled back.
pub fn load<B: Backend, W: Write>(
    backend: &mut B,
    settings: &Settings,
    input: Box<dyn BufRead + Send>,
    out: W,
) -> Result<Summary, LoadError> {
    let started = Instant::now();
    let rx = decode::spawn(input, settings.validate_records);
    backend.begin().map_err(LoadError::Database)?;
    let mut loader = Loader {
        backend,
        settings,
        out,
        streams: HashMap::new(),
        tables: HashMap::new(),
        summary: Summary::default(),
        rows_pending: 0,
        pending_states: Vec::new(),
        savepoint: false,
        dirty: false,
        state_at_boundary: false,
        state_since: started,
        last_commit: started,
        batched_at: now_rfc3339(),
        received_at: now_rfc3339(),
        sequence: initial_sequence(),
    };
    let result = loader.run(&rx);
    if let Err(error) = result {
        return Err(loader.fail(error));
    }
    loader.summary.elapsed = started.elapsed();
    Ok(loader.summary)
}

impl<B: Backend, W: Write> Loader<'_, B, W> {
    fn run(&mut self, rx: &Receiver<Vec<decode::Item>>) -> Result<(), LoadError> {
        loop {
            let batch = if self.state_at_boundary && !self.pending_states.is_empty() {
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
                // End of input: everything received is committed, with every STATE.
                return self.commit(false);
            };
            self.received_at = now_rfc3339();
            for item in batch {
                let Decoded {
                    line,
                    message,
                    wide,
                    invalid,
                } = item?;
                self.handle(line, message, wide, invalid)?;
            }
        }
    }

    /// Ends a failed load: on bad input, commits what the last STATE received covers and
    /// echoes the STATEs; otherwise rolls everything back. Returns the error to report.
    fn fail(&mut self, error: LoadError) -> LoadError {
        // Table handles go first: a database may refuse to roll back under open statements,
        // and rows they still hold back belong to no STATE.
        self.streams.clear();
        if error.is_input() && !self.pending_states.is_empty() {
            // Without a savepoint nothing changed before the STATEs: they cover the last commit.
            let saved = if self.savepoint {
                self.backend
                    .rollback_to_savepoint()
                    .and_then(|()| self.backend.commit())
            } else {
                self.backend.rollback()
            };
            match saved {
                Ok(()) => {
                    if let Err(e) = self.echo_pending() {
                        tracing::error!("{e}");
                    }
                }
                Err(e) => {
                    tracing::error!("cannot commit what the last STATE covers: {e}");
                    let _ = self.backend.rollback();
                }
            }
        } else {
            let _ = self.backend.rollback();
        }
        error
    }

    fn handle(
        &mut self,
        line: u64,
        message: Message,
        wide: Vec<Wide>,
        invalid: Option<String>,
    ) -> Result<(), LoadError> {
        self.state_at_boundary = matches!(message, Message::State(_));
        match message {
            Message::Schema(schema) => self.schema(line, schema),
            Message::Record(record) => self.record(line, record, &wide, invalid),
            Message::State(state) => self.state(&state.value, &wide),
            Message::ActivateVersion(av) => self.activate_version(line, &av.stream, av.version),
        }
    }

    fn state(&mut self, value: &Value, wide: &[Wide]) -> Result<(), LoadError> {
        self.pending_states
            .push(numbers::to_exact_json(value, wide));
        self.state_since = Instant::now();
        if self.rows_pending >= self.settings.batch_size_rows
            || self.last_commit.elapsed() >= COMMIT_INTERVAL
        {
            return self.commit(true);
        }
        if self.dirty {
            self.flush_all()?;
            self.backend.savepoint().map_err(LoadError::Database)?;
            self.savepoint = true;
            self.dirty = false;
        }
        Ok(())
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
        let max = self.backend.max_identifier_bytes();
        let fitted = |name: &str| match max {
            Some(max) => fit(&normalise(name), max),
            None => normalise(name),
        };
        let table = fitted(&schema.stream);
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
        let (columns, shape) =
            columns::columns(&schema.schema, self.settings.flatten_max_depth, max)
                .map_err(|e| stream_error(e.into()))?;
        for key in &schema.key_properties {
            if !columns
                .iter()
                .any(|c| c.path.len() == 1 && &c.path[0] == key)
            {
                return Err(stream_error(SinkError::UnknownKey(key.clone())));
            }
        }
        let metadata: &[(&str, Kind)] = if self.settings.add_record_metadata {
            &METADATA_COLUMNS
        } else {
            &[]
        };
        let mut wanted: Vec<Wanted> = Vec::new();
        for column in columns {
            if metadata.iter().any(|(m, _)| *m == column.name) {
                tracing::warn!(stream = %schema.stream, column = %column.name,
                    "property has a metadata column's name; the metadata column wins");
                continue;
            }
            wanted.push(Wanted {
                name: column.name,
                kind: column.kind,
                source: Source::Property,
            });
        }
        for (i, (name, kind)) in metadata.iter().enumerate() {
            wanted.push(Wanted {
                name: (*name).to_string(),
                kind: *kind,
                source: Source::Metadata(i),
            });
        }
        let keys: Vec<String> = schema.key_properties.iter().map(|k| fitted(k)).collect();
        // The old table handle goes (its rows written) before the table may be altered; given
        // warnings stay given.
        let warned = match self.streams.remove(&schema.stream) {
            Some(mut old) => {
                let counts = self
                    .backend
                    .flush(&mut old.table)
                    .map_err(|e| stream_error(SinkError::Db(e)))?;
                self.count(&schema.stream, counts);
                old.warned
            }
            None => HashSet::new(),
        };
        let db = |e| stream_error(SinkError::Db(e));
        let existing = self.backend.existing_columns(&table).map_err(db)?;
        let types = self.backend.types();
        let plan = evolution::plan(&table, &existing, wanted, &keys, types)
            .map_err(|e| stream_error(e.into()))?;
        let typed: Vec<(String, Kind)> = plan
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.kind))
            .collect();
        if plan.create {
            self.backend
                .create_table(&table, &typed, &keys)
                .map_err(db)?;
        }
        for (name, kind) in &plan.add {
            self.backend.add_column(&table, name, *kind).map_err(db)?;
            tracing::info!(table, column = %name, "added column");
        }
        for (column, was, now) in &plan.type_changes {
            tracing::warn!(table, column = %column, was = %was, now = *now,
                "column type changed in the schema; keeping the column as it is");
        }
        let handle = self.backend.open_table(&table, &typed, &keys).map_err(db)?;
        let sources: Vec<(&str, Source, Kind)> = plan
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.source, c.kind))
            .collect();
        let row_plan = RowPlan::new(&shape, &sources);
        self.tables.insert(table, schema.stream.clone());
        self.summary
            .streams
            .entry(schema.stream.clone())
            .or_default();
        self.dirty = true;
        self.streams.insert(
            schema.stream,
            Stream {
                schema: schema.schema,
                key_properties: schema.key_properties,
                plan: row_plan,
                warned,
                table: handle,
            },
        );
        Ok(())
    }

    fn record(
        &mut self,
        line: u64,
        record: singer::Record,
        wide: &[Wide],
        invalid: Option<String>,
    ) -> Result<(), LoadError> {
        let Some(stream) = self.streams.get_mut(&record.stream) else {
            return Err(LoadError::Input {
                line,
                message: format!("RECORD for stream `{}` before its SCHEMA", record.stream),
            });
        };
        let fields = &record.record;
        if let Some(problem) = invalid.or_else(|| check_keys(&stream.key_properties, fields).err())
        {
            return self.invalid(line, &record.stream, &problem, record.record, wide);
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
        let mut undeclared = Vec::new();
        let cells = stream.plan.cells(fields, wide, &meta, &mut undeclared);
        for path in undeclared {
            if stream.warned.insert(path.clone()) {
                tracing::warn!(stream = %record.stream, property = %path,
                    "dropping property the schema does not declare");
            }
        }
        let written = self.backend.write(&mut stream.table, &cells);
        drop(cells);
        match written {
            Ok(counts) => self.count(&record.stream, counts),
            Err(WriteError::Invalid(problem)) => {
                return self.invalid(line, &record.stream, &problem, record.record, wide);
            }
            Err(WriteError::Db(e)) => {
                return Err(LoadError::Stream {
                    line,
                    stream: record.stream,
                    source: SinkError::Db(e),
                });
            }
        }
        self.rows_pending += 1;
        self.dirty = true;
        Ok(())
    }

    fn count(&mut self, stream: &str, counts: Counts) {
        if counts == Counts::default() {
            return;
        }
        let c = self.summary.streams.entry(stream.to_string()).or_default();
        c.inserted += counts.inserted;
        c.updated += counts.updated;
    }

    fn invalid(
        &mut self,
        line: u64,
        stream: &str,
        problem: &str,
        record: Map<String, Value>,
        wide: &[Wide],
    ) -> Result<(), LoadError> {
        if self.settings.on_invalid_record == OnInvalidRecord::Fail {
            return Err(LoadError::Input {
                line,
                message: format!("stream `{stream}`: {problem}"),
            });
        }
        let text = numbers::to_exact_json(&Value::Object(record), wide);
        let digest = sha2::Sha256::digest(text.as_bytes());
        let sha: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.backend
            .reject(&Rejected {
                stream,
                line,
                error: problem,
                record: &text,
                record_sha256: &sha,
                received_at: &self.received_at,
            })
            .map_err(LoadError::Database)?;
        tracing::warn!(stream, line, problem, "rejected record");
        self.summary
            .streams
            .entry(stream.to_string())
            .or_default()
            .rejected += 1;
        self.rows_pending += 1;
        self.dirty = true;
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
        if !self.settings.add_record_metadata {
            tracing::warn!(
                stream,
                "ACTIVATE_VERSION ignored: add_record_metadata is off"
            );
            return Ok(());
        }
        let stream_error = |e| LoadError::Stream {
            line,
            stream: stream.to_string(),
            source: SinkError::Db(e),
        };
        let counts = self.backend.flush(&mut known.table).map_err(stream_error)?;
        let touched = self
            .backend
            .activate_version(
                &mut known.table,
                version,
                self.settings.hard_delete,
                &self.received_at,
            )
            .map_err(stream_error)?;
        self.count(stream, counts);
        self.summary
            .streams
            .entry(stream.to_string())
            .or_default()
            .deactivated += touched;
        self.dirty = true;
        Ok(())
    }

    /// Writes every table's held-back rows.
    fn flush_all(&mut self) -> Result<(), LoadError> {
        let mut all = Vec::new();
        for (name, stream) in &mut self.streams {
            let counts = self
                .backend
                .flush(&mut stream.table)
                .map_err(LoadError::Database)?;
            all.push((name.clone(), counts));
        }
        for (name, counts) in all {
            self.count(&name, counts);
        }
        Ok(())
    }

    /// Commits the open transaction, then echoes the pending STATEs in order, then opens the
    /// next transaction unless input has ended.
    fn commit(&mut self, reopen: bool) -> Result<(), LoadError> {
        self.flush_all()?;
        self.backend.commit().map_err(LoadError::Database)?;
        for (table, counts) in self.backend.settled_counts() {
            if let Some(stream) = self.tables.get(&table).cloned() {
                self.count(&stream, counts);
            }
        }
        self.summary.commits += 1;
        self.rows_pending = 0;
        self.savepoint = false;
        self.dirty = false;
        self.last_commit = Instant::now();
        self.echo_pending()?;
        if reopen {
            self.batched_at = now_rfc3339();
            self.backend.begin().map_err(LoadError::Database)?;
        }
        Ok(())
    }

    /// Prints every pending STATE value, one line each, in one write (so a reader that sees
    /// the first sees them all), and flushes.
    fn echo_pending(&mut self) -> Result<(), LoadError> {
        if self.pending_states.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for value in self.pending_states.drain(..) {
            text.push_str(&value);
            text.push('\n');
            self.summary.states_echoed += 1;
        }
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(LoadError::Output)
    }
}

/// Checks that every key property is present and not null.
fn check_keys(keys: &[String], record: &Map<String, Value>) -> Result<(), String> {
    for key in keys {
        match record.get(key) {
            None => return Err(format!("record is missing key property `{key}`")),
            Some(Value::Null) => return Err(format!("key property `{key}` is null")),
            Some(_) => {}
        }
    }
    Ok(())
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
