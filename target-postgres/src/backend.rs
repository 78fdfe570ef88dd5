//! PostgreSQL behind [`target_core::Backend`]: rows are encoded as `COPY` text and held back
//! per table; a flush copies them into the table (streams without keys) or into a temporary
//! staging table, then `INSERT … ON CONFLICT (key) DO UPDATE` from it (last write wins within
//! a batch too).

use std::collections::HashSet;
use std::io::Write as _;

use postgres::Client;
use target_core::names::{fit, quote};
use target_core::{
    Backend, Cell, Counts, DbError, ExistingColumn, Kind, REJECTED_TABLE, Rejected, TypeMap,
    WriteError,
};

use crate::encode::{self, push_cell};

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

/// Held-back COPY text after which a table is flushed mid-batch, to keep memory flat.
const FLUSH_BYTES: usize = 16 << 20;

/// The staging table's own column: the row's position in the batch, for last-write-wins.
const ROW_COLUMN: &str = "_tapline_row";

/// A PostgreSQL connection the loader writes through.
pub struct Postgres {
    client: Client,
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
    /// Key text of each held-back row, to skip the de-duplicating sort when there is none.
    batch_keys: HashSet<Vec<u8>>,
    duplicates: bool,
    /// Columns where a `\u0000` was replaced already (warned once).
    nul_warned: HashSet<usize>,
}

impl Postgres {
    /// Uses `client`, loading into `schema` (created when missing).
    pub fn new(mut client: Client, schema: &str) -> Result<Self, DbError> {
        let schema = fit(schema, MAX_IDENTIFIER_BYTES);
        client.batch_execute(&format!(
            "SET TIME ZONE 'UTC'; SET synchronous_commit = on; SET client_min_messages = warning;
             CREATE SCHEMA IF NOT EXISTS {}",
            quote(&schema)
        ))?;
        Ok(Self {
            client,
            schema,
            savepoint: false,
            rejected_ready: false,
        })
    }

    fn qualified(&self, table: &str) -> String {
        format!("{}.{}", quote(&self.schema), quote(table))
    }

    fn exec(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).map_err(Into::into)
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
        // One savepoint at a time: the previous one merges into the transaction.
        if self.savepoint {
            self.exec("RELEASE SAVEPOINT state")?;
        }
        self.exec("SAVEPOINT state")?;
        self.savepoint = true;
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), DbError> {
        self.rejected_ready = false;
        self.exec("ROLLBACK TO SAVEPOINT state")
    }

    fn existing_columns(&mut self, table: &str) -> Result<Vec<ExistingColumn>, DbError> {
        let rows = self.client.query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),
                    coalesce(array_position(i.indkey::int2[], a.attnum) + 1, 0)::bigint
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            &[&self.schema, &table],
        )?;
        Ok(rows
            .iter()
            .map(|r| ExistingColumn {
                name: r.get(0),
                declared: r.get(1),
                pk: r.get(2),
            })
            .collect())
    }

    fn create_table(
        &mut self,
        table: &str,
        columns: &[(String, Kind)],
        keys: &[String],
    ) -> Result<(), DbError> {
        let mut defs: Vec<String> = columns
            .iter()
            .map(|(n, k)| format!("{} {}", quote(n), TYPES.get(*k)))
            .collect();
        if !keys.is_empty() {
            let pk: Vec<String> = keys.iter().map(|k| quote(k)).collect();
            defs.push(format!("PRIMARY KEY ({})", pk.join(", ")));
        }
        let sql = format!(
            "CREATE TABLE {} ({})",
            self.qualified(table),
            defs.join(", ")
        );
        self.exec(&sql)
    }

    fn add_column(&mut self, table: &str, column: &str, kind: Kind) -> Result<(), DbError> {
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
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
                "DROP TABLE IF EXISTS pg_temp.{stage};
                 CREATE TEMP TABLE {stage} (LIKE {qualified});
                 ALTER TABLE {stage} ADD COLUMN {} bigint",
                quote(ROW_COLUMN)
            ))?;
            Some(stage)
        };
        Ok(Table {
            qualified,
            name: table.to_string(),
            columns: columns.to_vec(),
            keys: keys.to_vec(),
            stage,
            buffer: Vec::with_capacity(1 << 20),
            rows: 0,
            batch_keys: HashSet::new(),
            duplicates: false,
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
            table.buffer.push(b'\t');
            let row_number = table.rows;
            let _ = write!(table.buffer, "{row_number}");
            if !table.batch_keys.insert(key_text) {
                table.duplicates = true;
            }
        }
        table.buffer.push(b'\n');
        table.rows += 1;
        if table.buffer.len() >= FLUSH_BYTES {
            return self.flush(table).map_err(WriteError::Db);
        }
        Ok(Counts::default())
    }

    fn flush(&mut self, table: &mut Table) -> Result<Counts, DbError> {
        if table.rows == 0 {
            return Ok(Counts::default());
        }
        let columns: Vec<String> = table.columns.iter().map(|(n, _)| quote(n)).collect();
        let list = columns.join(", ");
        let rows = table.rows;
        let counts = match &table.stage {
            None => {
                let mut writer = self
                    .client
                    .copy_in(&format!("COPY {} ({list}) FROM STDIN", table.qualified))?;
                writer.write_all(&table.buffer)?;
                writer.finish()?;
                Counts {
                    inserted: rows,
                    updated: 0,
                }
            }
            Some(stage) => {
                let mut writer = self.client.copy_in(&format!(
                    "COPY {stage} ({list}, {}) FROM STDIN",
                    quote(ROW_COLUMN)
                ))?;
                writer.write_all(&table.buffer)?;
                writer.finish()?;
                let keys: Vec<String> = table.keys.iter().map(|k| quote(k)).collect();
                let keys = keys.join(", ");
                let source = if table.duplicates {
                    format!(
                        "SELECT DISTINCT ON ({keys}) {list} FROM {stage} ORDER BY {keys}, {} DESC",
                        quote(ROW_COLUMN)
                    )
                } else {
                    format!("SELECT {list} FROM {stage}")
                };
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
                let row = self.client.query_one(
                    &format!(
                        "WITH up AS (INSERT INTO {} ({list}) {source} ON CONFLICT ({keys}) DO {action} \
                         RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted) FROM up",
                        table.qualified
                    ),
                    &[],
                )?;
                let inserted = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
                self.exec(&format!("TRUNCATE {stage}"))?;
                Counts {
                    inserted,
                    updated: rows - inserted.min(rows),
                }
            }
        };
        table.buffer.clear();
        table.rows = 0;
        table.batch_keys.clear();
        table.duplicates = false;
        Ok(counts)
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
        let n = if hard {
            self.client
                .execute(&format!("DELETE FROM {t} WHERE {older}"), &[&version])?
        } else {
            self.client.execute(
                &format!(
                    "UPDATE {t} SET \"_sdc_deleted_at\" = CAST($2::text AS timestamptz) \
                     WHERE \"_sdc_deleted_at\" IS NULL AND {older}"
                ),
                &[&version, &now],
            )?
        };
        Ok(n)
    }

    fn reject(&mut self, r: &Rejected<'_>) -> Result<(), DbError> {
        let t = self.qualified(REJECTED_TABLE);
        if !self.rejected_ready {
            self.exec(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (stream text, line bigint, error text, record text, \
                 received_at timestamptz, record_sha256 text, PRIMARY KEY (stream, record_sha256))"
            ))?;
            self.rejected_ready = true;
        }
        let clean = |s: &str| s.replace('\0', &encode::NUL_REPLACEMENT.to_string());
        let line = i64::try_from(r.line).unwrap_or(i64::MAX);
        self.client.execute(
            &format!(
                "INSERT INTO {t} (stream, line, error, record, received_at, record_sha256) \
                 VALUES ($1, $2, $3, $4, CAST($5::text AS timestamptz), $6) \
                 ON CONFLICT (stream, record_sha256) DO UPDATE \
                 SET line = EXCLUDED.line, error = EXCLUDED.error, received_at = EXCLUDED.received_at"
            ),
            &[
                &clean(r.stream),
                &line,
                &clean(r.error),
                &clean(r.record),
                &r.received_at,
                &r.record_sha256,
            ],
        )?;
        Ok(())
    }
}
