//! PostgreSQL behind [`target_core::Backend`]: rows are encoded as `COPY` text and held back
//! per table; a flush copies them into the table (streams without keys) or into a temporary
//! staging table, then `INSERT … ON CONFLICT (key) DO UPDATE` from it (last write wins within
//! a batch too, by keeping each key's last row). A batch is first copied straight into the
//! table, in a savepoint: when a key is already there the copy fails at once and the batch takes the
//! staging path (and so do the table's later batches). Batches go to the connection's own
//! thread ([`crate::worker`]) while the next one is encoded.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use postgres::Client;
use postgres::error::SqlState;
use target_core::names::{fit, quote};
use target_core::{
    Backend, Cell, Counts, DbError, ExistingColumn, Kind, REJECTED_TABLE, Rejected, TypeMap,
    WriteError,
};

use crate::encode::{self, push_cell};
use crate::worker::Worker;

/// PostgreSQL's column type for each kind (as `format_type` spells them).
pub const TYPES: TypeMap = TypeMap {
    integer: "bigint",
    number: "numeric",
    boolean: "boolean",
    timestamp: "timestamp with time zone",
    text: "text",
    json: "jsonb",
};

/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Held-back COPY text after which a table is flushed mid-batch, to keep memory flat. Smaller
/// batches keep the server busier (it starts on one while the next is encoded): 4 MiB loads
/// 100k records about 40% faster than 8 MiB here.
const FLUSH_BYTES: usize = 4 << 20;

/// Capacity of a batch buffer: a flush's worth and the row that crosses the line.
const BUFFER_BYTES: usize = FLUSH_BYTES + (1 << 20);

/// A PostgreSQL connection the loader writes through.
pub struct Postgres {
    db: Worker,
    schema: String,
    savepoint: bool,
    rejected_ready: bool,
}

/// One stream's table, its held-back rows and its statements' text.
pub struct Table {
    /// `"schema"."table"`.
    qualified: String,
    name: String,
    columns: Vec<(String, Kind)>,
    keys: Vec<String>,
    /// Staging table (streams with keys).
    stage: Option<String>,
    buffer: Vec<u8>,
    rows: u64,
    /// Where each held-back row starts in `buffer`.
    row_starts: Vec<usize>,
    /// Key text of held-back rows → the last row with that key (last write wins).
    batch_keys: HashMap<Vec<u8>, usize>,
    duplicates: bool,
    /// Batches may still be copied straight into the table (no key of theirs was there yet).
    direct: Arc<AtomicBool>,
    /// Columns where a `\u0000` was replaced already (warned once).
    nul_warned: HashSet<usize>,
}

/// Advisory lock key held around DDL until the transaction ends, so targets loading the same
/// tables at once (the shards of a sharded run) create and widen them one at a time; the
/// second finds the first's schema, table or column and leaves it. Released at commit, not
/// before: a second `CREATE … IF NOT EXISTS` that runs before the first commits does not see
/// its row and fails on the catalog's unique index.
const DDL_LOCK: i64 = 0x7461_706c_696e_6544;

impl Postgres {
    /// Uses `client`, loading into `schema` (created when missing).
    pub fn new(mut client: Client, schema: &str) -> Result<Self, DbError> {
        let schema = fit(schema, MAX_IDENTIFIER_BYTES);
        client.batch_execute(&format!(
            "SET TIME ZONE 'UTC'; SET synchronous_commit = on; SET client_min_messages = warning;
             SELECT pg_advisory_xact_lock({DDL_LOCK}); CREATE SCHEMA IF NOT EXISTS {}",
            quote(&schema)
        ))?;
        Ok(Self {
            db: Worker::new(client),
            schema,
            savepoint: false,
            rejected_ready: false,
        })
    }

    fn qualified(&self, table: &str) -> String {
        format!("{}.{}", quote(&self.schema), quote(table))
    }

    fn exec(&mut self, sql: &str) -> Result<(), DbError> {
        let sql = sql.to_string();
        self.db
            .call(move |c| c.batch_execute(&sql).map_err(Into::into))
    }

    /// Sends the table's held-back rows to the connection's thread.
    fn send_batch(&mut self, table: &mut Table) -> Result<(), DbError> {
        if table.rows == 0 {
            return Ok(());
        }
        let columns: Vec<String> = table.columns.iter().map(|(n, _)| quote(n)).collect();
        let list = columns.join(", ");
        let rows = table.rows;
        let fresh = self.db.buffer(BUFFER_BYTES);
        let mut data = std::mem::replace(&mut table.buffer, fresh);
        let recycle = self.db.recycler();
        let mut unique = rows;
        if table.duplicates {
            // Last write wins within the batch: keep each key's last row, in input order.
            let mut winners: Vec<usize> = table.batch_keys.values().copied().collect();
            winners.sort_unstable();
            unique = winners.len() as u64;
            let mut kept = self.db.buffer(BUFFER_BYTES);
            for i in winners {
                let end = table.row_starts.get(i + 1).copied().unwrap_or(data.len());
                kept.extend_from_slice(&data[table.row_starts[i]..end]);
            }
            let _ = recycle.send(std::mem::replace(&mut data, kept));
        }
        let plan = BatchPlan {
            direct_copy: format!("COPY {} ({list}) FROM STDIN", table.qualified),
            staged: table.stage.as_ref().map(|stage| {
                let (upsert, truncate) = staged_upsert(table, stage, &list, &columns);
                Staged {
                    copy: format!("COPY {stage} ({list}) FROM STDIN"),
                    upsert,
                    truncate,
                    try_direct: table.direct.load(Ordering::SeqCst),
                    direct: Arc::clone(&table.direct),
                }
            }),
            rows,
            unique,
        };
        let job = move |c: &mut Client| {
            let result = plan.run(c, &data);
            let _ = recycle.send(data);
            result
        };
        table.rows = 0;
        table.row_starts.clear();
        table.batch_keys.clear();
        table.duplicates = false;
        self.db.batch(&table.name, job)
    }
}

impl Backend for Postgres {
    type Table = Table;

    fn types(&self) -> &'static TypeMap {
        &TYPES
    }

    fn max_identifier_bytes(&self) -> Option<usize> {
        Some(MAX_IDENTIFIER_BYTES)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.savepoint = false;
        self.exec("BEGIN")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.savepoint = false;
        self.exec("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.savepoint = false;
        self.rejected_ready = false;
        self.exec("ROLLBACK")
    }

    fn savepoint(&mut self) -> Result<(), DbError> {
        // One savepoint at a time: the previous one merges into the transaction. Queued behind
        // the batches before it, without waiting for them.
        let sql = if self.savepoint {
            "RELEASE SAVEPOINT state; SAVEPOINT state"
        } else {
            "SAVEPOINT state"
        };
        self.savepoint = true;
        self.db
            .spawn(move |c| c.batch_execute(sql).map_err(Into::into))
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), DbError> {
        self.rejected_ready = false;
        self.exec("ROLLBACK TO SAVEPOINT state")
    }

    fn existing_columns(&mut self, table: &str) -> Result<Vec<ExistingColumn>, DbError> {
        let (schema, table) = (self.schema.clone(), table.to_string());
        self.db.call(move |c| {
            let rows = c.query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),
                    coalesce(array_position(i.indkey::int2[], a.attnum) + 1, 0)::bigint
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
                &[&schema, &table],
            )?;
            Ok(rows
                .iter()
                .map(|r| ExistingColumn {
                    name: r.get(0),
                    declared: r.get(1),
                    pk: r.get(2),
                })
                .collect())
        })
    }

    fn create_table(
        &mut self,
        table: &str,
        columns: &[(String, Kind)],
        keys: &[String],
    ) -> Result<(), DbError> {
        let sql = format!(
            "SELECT pg_advisory_xact_lock({DDL_LOCK}); CREATE TABLE IF NOT EXISTS {} ({})",
            self.qualified(table),
            TYPES.table_definition(columns, keys)
        );
        self.exec(&sql)
    }

    fn add_column(&mut self, table: &str, column: &str, kind: Kind) -> Result<(), DbError> {
        let sql = format!(
            "SELECT pg_advisory_xact_lock({DDL_LOCK}); ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
            self.qualified(table),
            quote(column),
            TYPES.get(kind)
        );
        self.exec(&sql)
    }

    fn open_table(
        &mut self,
        table: &str,
        columns: &[(String, Kind)],
        keys: &[String],
    ) -> Result<Table, DbError> {
        let qualified = self.qualified(table);
        let stage = if keys.is_empty() {
            None
        } else {
            let stage = quote(&fit(
                &format!("_tapline_stage_{table}"),
                MAX_IDENTIFIER_BYTES,
            ));
            self.exec(&format!(
                "DROP TABLE IF EXISTS pg_temp.{stage}; CREATE TEMP TABLE {stage} (LIKE {qualified})"
            ))?;
            Some(stage)
        };
        Ok(Table {
            qualified,
            name: table.to_string(),
            columns: columns.to_vec(),
            keys: keys.to_vec(),
            stage,
            buffer: self.db.buffer(BUFFER_BYTES),
            rows: 0,
            row_starts: Vec::new(),
            batch_keys: HashMap::new(),
            duplicates: false,
            direct: Arc::new(AtomicBool::new(true)),
            nul_warned: HashSet::new(),
        })
    }

    fn write(&mut self, table: &mut Table, row: &[Cell<'_>]) -> Result<Counts, WriteError> {
        let start = table.buffer.len();
        let mut key_text: Vec<u8> = Vec::new();
        for (i, (cell, (name, _))) in row.iter().zip(&table.columns).enumerate() {
            if i > 0 {
                table.buffer.push(b'\t');
            }
            let at = table.buffer.len();
            match push_cell(&mut table.buffer, cell) {
                Ok(replaced) => {
                    if replaced && table.nul_warned.insert(i) {
                        tracing::warn!(table = %table.name, column = %name,
                            "\\u0000 replaced by U+FFFD (text and jsonb cannot hold it)");
                    }
                }
                Err(problem) => {
                    table.buffer.truncate(start);
                    return Err(WriteError::Invalid(format!("column `{name}`: {problem}")));
                }
            }
            if table.stage.is_some() && table.keys.contains(name) {
                key_text.extend_from_slice(&table.buffer[at..]);
                key_text.push(b'\t');
            }
        }
        if table.stage.is_some() {
            let row = table.row_starts.len();
            if table.batch_keys.insert(key_text, row).is_some() {
                table.duplicates = true;
            }
        }
        table.buffer.push(b'\n');
        table.row_starts.push(start);
        table.rows += 1;
        if table.buffer.len() >= FLUSH_BYTES {
            self.send_batch(table).map_err(WriteError::Db)?;
            return Ok(self.db.take_counts(&table.name));
        }
        Ok(Counts::default())
    }

    fn flush(&mut self, table: &mut Table) -> Result<Counts, DbError> {
        // Queued, not waited for: the next call (a commit at the latest) waits.
        self.send_batch(table)?;
        Ok(self.db.take_counts(&table.name))
    }

    fn settled_counts(&mut self) -> Vec<(String, Counts)> {
        self.db.take_all_counts()
    }

    fn activate_version(
        &mut self,
        table: &mut Table,
        version: i64,
        hard: bool,
        now: &str,
    ) -> Result<u64, DbError> {
        let names: Vec<&str> = table.columns.iter().map(|(n, _)| n.as_str()).collect();
        if !["_sdc_table_version", "_sdc_deleted_at"]
            .iter()
            .all(|c| names.contains(c))
        {
            return Ok(0);
        }
        let t = &table.qualified;
        let older = "(\"_sdc_table_version\" IS NULL OR \"_sdc_table_version\" < $1)";
        let now = now.to_string();
        let sql = if hard {
            format!("DELETE FROM {t} WHERE {older}")
        } else {
            format!(
                "UPDATE {t} SET \"_sdc_deleted_at\" = CAST($2::text AS timestamptz) \
                 WHERE \"_sdc_deleted_at\" IS NULL AND {older}"
            )
        };
        self.db.call(move |c| {
            Ok(if hard {
                c.execute(&sql, &[&version])?
            } else {
                c.execute(&sql, &[&version, &now])?
            })
        })
    }

    fn reject(&mut self, r: &Rejected<'_>) -> Result<(), DbError> {
        let t = self.qualified(REJECTED_TABLE);
        if !self.rejected_ready {
            self.exec(&format!(
                "SELECT pg_advisory_xact_lock({DDL_LOCK}); \
                 CREATE TABLE IF NOT EXISTS {t} (stream text, line bigint, error text, record text, \
                 received_at timestamptz, record_sha256 text, PRIMARY KEY (stream, record_sha256))"
            ))?;
            self.rejected_ready = true;
        }
        let clean = |s: &str| s.replace('\0', &encode::NUL_REPLACEMENT.to_string());
        let line = i64::try_from(r.line).unwrap_or(i64::MAX);
        let (stream, error, record) = (clean(r.stream), clean(r.error), clean(r.record));
        let (received_at, sha) = (r.received_at.to_string(), r.record_sha256.to_string());
        let sql = format!(
            "INSERT INTO {t} (stream, line, error, record, received_at, record_sha256) \
                 VALUES ($1, $2, $3, $4, CAST($5::text AS timestamptz), $6) \
                 ON CONFLICT (stream, record_sha256) DO UPDATE \
                 SET line = EXCLUDED.line, error = EXCLUDED.error, received_at = EXCLUDED.received_at"
        );
        self.db.call(move |c| {
            c.execute(&sql, &[&stream, &line, &error, &record, &received_at, &sha])?;
            Ok(())
        })
    }
}

/// What a batch job does with its rows.
struct BatchPlan {
    /// `COPY` straight into the table.
    direct_copy: String,
    /// The staging path, for a table with keys.
    staged: Option<Staged>,
    /// Records in the batch.
    rows: u64,
    /// Rows after keeping each key's last one.
    unique: u64,
}

struct Staged {
    copy: String,
    upsert: String,
    truncate: String,
    try_direct: bool,
    direct: Arc<AtomicBool>,
}

impl BatchPlan {
    fn run(&self, c: &mut Client, data: &[u8]) -> Result<Counts, DbError> {
        let (rows, unique) = (self.rows, self.unique);
        // Repeated keys of the batch count as updates.
        let all_new = Counts {
            inserted: unique,
            updated: rows - unique,
        };
        let Some(staged) = &self.staged else {
            copy(c, &self.direct_copy, data)?;
            return Ok(all_new);
        };
        if staged.try_direct {
            c.batch_execute("SAVEPOINT copy")?;
            match copy(c, &self.direct_copy, data) {
                Ok(()) => {
                    c.batch_execute("RELEASE SAVEPOINT copy")?;
                    return Ok(all_new);
                }
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    c.batch_execute("ROLLBACK TO SAVEPOINT copy; RELEASE SAVEPOINT copy")?;
                    staged.direct.store(false, Ordering::SeqCst);
                }
                Err(e) => return Err(e.into()),
            }
        }
        copy(c, &staged.copy, data)?;
        let inserted: i64 = c.query_one(&staged.upsert, &[])?.get(0);
        c.batch_execute(&staged.truncate)?;
        let inserted = u64::try_from(inserted).unwrap_or(0).min(rows);
        Ok(Counts {
            inserted,
            updated: rows - inserted,
        })
    }
}

/// Streams `data` into a `COPY … FROM STDIN`.
fn copy(c: &mut Client, sql: &str, data: &[u8]) -> Result<(), postgres::Error> {
    let mut writer = c.copy_in(sql)?;
    // A write error is the server's: `finish` reports it.
    let _ = writer.write_all(data);
    writer.finish()?;
    Ok(())
}

/// The upsert from the staging table (counting new rows) and the staging table's truncation.
fn staged_upsert(table: &Table, stage: &str, list: &str, columns: &[String]) -> (String, String) {
    let keys: Vec<String> = table.keys.iter().map(|k| quote(k)).collect();
    let keys = keys.join(", ");
    // The batch holds each key once (see `send_batch`).
    let source = format!("SELECT {list} FROM {stage}");
    let set: Vec<String> = columns
        .iter()
        .filter(|c| !table.keys.iter().any(|k| quote(k) == **c))
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    let action = if set.is_empty() {
        "NOTHING".to_string()
    } else {
        format!("UPDATE SET {}", set.join(", "))
    };
    (
        format!(
            "WITH up AS (INSERT INTO {} ({list}) {source} ON CONFLICT ({keys}) DO {action} \
             RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted) FROM up",
            table.qualified
        ),
        format!("TRUNCATE {stage}"),
    )
}
