//! SQLite behind [`target_core::Backend`]: prepared statements, one row at a time, inside the
//! loader's transaction; savepoints at STATEs.

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, Statement};
use serde_json::Value;
use target_core::names::quote;
use target_core::{
    Backend, Cell, Counts, DbError, ExistingColumn, Kind, Rejected, TypeMap, WriteError,
};

/// SQLite's column type for each kind. Timestamps are ISO 8601 text, JSON is text, booleans
/// are 0/1.
pub const TYPES: TypeMap = TypeMap {
    integer: "INTEGER",
    number: "REAL",
    boolean: "INTEGER",
    timestamp: "TEXT",
    text: "TEXT",
    json: "TEXT",
};

/// The largest integer every smaller one of which a double holds exactly (2^53).
const EXACT_DOUBLE_INTEGER: i64 = 1 << 53;

/// A SQLite database the loader writes through.
pub struct Sqlite<'c> {
    conn: &'c Connection,
    rejected: Option<Statement<'c>>,
    savepoint: bool,
}

/// One stream's table and its prepared statements.
pub struct Table<'c> {
    columns: Vec<(String, Kind)>,
    insert: Statement<'c>,
    update: Option<Statement<'c>>,
    versions: Option<(Statement<'c>, Statement<'c>)>,
}

impl<'c> Sqlite<'c> {
    /// Wraps an open connection (see [`crate::db::open`]).
    pub fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            rejected: None,
            savepoint: false,
        }
    }

    fn exec(&self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(Into::into)
    }
}

impl<'c> Backend for Sqlite<'c> {
    type Table = Table<'c>;

    fn types(&self) -> &'static TypeMap {
        &TYPES
    }

    fn max_identifier_bytes(&self) -> Option<usize> {
        None
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.exec("BEGIN")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.savepoint = false;
        self.exec("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        // The rejected-records statement goes first so the rollback is not blocked by it.
        self.rejected = None;
        self.savepoint = false;
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.exec("ROLLBACK")
    }

    fn savepoint(&mut self) -> Result<(), DbError> {
        // One savepoint at a time: the previous one merges into the transaction.
        if self.savepoint {
            self.exec("RELEASE state")?;
        }
        self.exec("SAVEPOINT state")?;
        self.savepoint = true;
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), DbError> {
        self.rejected = None;
        self.exec("ROLLBACK TO state")
    }

    fn existing_columns(&mut self, table: &str) -> Result<Vec<ExistingColumn>, DbError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, type, pk FROM pragma_table_info(?1)")?;
        let rows = stmt.query_map([table], |row| {
            Ok(ExistingColumn {
                name: row.get(0)?,
                declared: row.get(1)?,
                pk: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_table(
        &mut self,
        table: &str,
        columns: &[(String, Kind)],
        keys: &[String],
    ) -> Result<(), DbError> {
        self.exec(&format!(
            "CREATE TABLE {} ({})",
            quote(table),
            TYPES.table_definition(columns, keys)
        ))
    }

    fn add_column(&mut self, table: &str, column: &str, kind: Kind) -> Result<(), DbError> {
        self.exec(&format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            quote(table),
            quote(column),
            TYPES.get(kind)
        ))
    }

    fn open_table(
        &mut self,
        table: &str,
        columns: &[(String, Kind)],
        keys: &[String],
    ) -> Result<Table<'c>, DbError> {
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let (insert, update) = prepare_writes(self.conn, table, &names, keys)?;
        let versioned = ["_sdc_table_version", "_sdc_deleted_at"]
            .iter()
            .all(|c| names.contains(c));
        let versions = if versioned {
            Some(prepare_versions(self.conn, table)?)
        } else {
            None
        };
        Ok(Table {
            columns: columns.to_vec(),
            insert,
            update,
            versions,
        })
    }

    fn write(&mut self, table: &mut Table<'c>, row: &[Cell<'_>]) -> Result<Counts, WriteError> {
        let db = |e: rusqlite::Error| WriteError::Db(e.into());
        let mut values = Vec::with_capacity(row.len());
        for (cell, (name, _)) in row.iter().zip(&table.columns) {
            values.push(
                to_sql(cell).map_err(|problem| {
                    WriteError::Invalid(format!("column `{name}`: {problem}"))
                })?,
            );
        }
        for (i, v) in values.iter().enumerate() {
            table.insert.raw_bind_parameter(i + 1, v).map_err(db)?;
        }
        if table.insert.raw_execute().map_err(db)? == 1 {
            return Ok(Counts {
                inserted: 1,
                updated: 0,
            });
        }
        // INSERT OR IGNORE skipped the row: a row with this key exists, so update it.
        let Some(update) = table.update.as_mut() else {
            return Ok(Counts {
                inserted: 1,
                updated: 0,
            });
        };
        for (i, v) in values.iter().enumerate() {
            update.raw_bind_parameter(i + 1, v).map_err(db)?;
        }
        update.raw_execute().map_err(db)?;
        Ok(Counts {
            inserted: 0,
            updated: 1,
        })
    }

    fn flush(&mut self, _table: &mut Table<'c>) -> Result<Counts, DbError> {
        Ok(Counts::default())
    }

    fn activate_version(
        &mut self,
        table: &mut Table<'c>,
        version: i64,
        hard: bool,
        now: &str,
    ) -> Result<u64, DbError> {
        let Some((delete, mark)) = table.versions.as_mut() else {
            return Ok(0);
        };
        let n = if hard {
            delete.execute([version])?
        } else {
            mark.execute(rusqlite::params![now, version])?
        };
        Ok(n as u64)
    }

    fn reject(&mut self, r: &Rejected<'_>) -> Result<(), DbError> {
        if self.rejected.is_none() {
            let t = quote(target_core::REJECTED_TABLE);
            self.exec(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (stream TEXT, line INTEGER, error TEXT, record TEXT, \
                 received_at TEXT, record_sha256 TEXT)"
            ))?;
            let has_key = self
                .existing_columns(target_core::REJECTED_TABLE)?
                .iter()
                .any(|c| c.name == "record_sha256");
            if !has_key {
                // A table from before the key existed: its old rows stay as they are.
                self.exec(&format!("ALTER TABLE {t} ADD COLUMN record_sha256 TEXT"))?;
            }
            self.exec(&format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS \"_sdc_rejected_records_key\" ON {t} (stream, record_sha256)"
            ))?;
            self.rejected = Some(self.conn.prepare(&format!(
                "INSERT INTO {t} (stream, line, error, record, received_at, record_sha256) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (stream, record_sha256) DO UPDATE \
                 SET line = excluded.line, error = excluded.error, received_at = excluded.received_at"
            ))?);
        }
        if let Some(insert) = self.rejected.as_mut() {
            let line = i64::try_from(r.line).unwrap_or(i64::MAX);
            insert.execute(rusqlite::params![
                r.stream,
                line,
                r.error,
                r.record,
                r.received_at,
                r.record_sha256
            ])?;
        }
        Ok(())
    }
}

fn prepare_writes<'c>(
    conn: &'c Connection,
    table: &str,
    names: &[&str],
    keys: &[String],
) -> rusqlite::Result<(Statement<'c>, Option<Statement<'c>>)> {
    let quoted: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let params: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let verb = if keys.is_empty() {
        "INSERT"
    } else {
        "INSERT OR IGNORE"
    };
    let insert = conn.prepare(&format!(
        "{verb} INTO {} ({}) VALUES ({})",
        quote(table),
        quoted.join(", "),
        params.join(", ")
    ))?;
    if keys.is_empty() {
        return Ok((insert, None));
    }
    let set: Vec<String> = quoted
        .iter()
        .zip(&params)
        .map(|(c, p)| format!("{c} = {p}"))
        .collect();
    let filter: Vec<String> = keys
        .iter()
        .map(|k| {
            let i = names.iter().position(|n| n == k).map_or(0, |i| i + 1);
            format!("{} = ?{i}", quote(k))
        })
        .collect();
    let update = conn.prepare(&format!(
        "UPDATE {} SET {} WHERE {}",
        quote(table),
        set.join(", "),
        filter.join(" AND ")
    ))?;
    Ok((insert, Some(update)))
}

fn prepare_versions<'c>(
    conn: &'c Connection,
    table: &str,
) -> rusqlite::Result<(Statement<'c>, Statement<'c>)> {
    let t = quote(table);
    let older = "(\"_sdc_table_version\" IS NULL OR \"_sdc_table_version\" < ?1)";
    let delete = conn.prepare(&format!("DELETE FROM {t} WHERE {older}"))?;
    let mark = conn.prepare(&format!(
        "UPDATE {t} SET \"_sdc_deleted_at\" = ?1 WHERE \"_sdc_deleted_at\" IS NULL AND {}",
        older.replace("?1", "?2")
    ))?;
    Ok((delete, mark))
}

const NULL: ToSqlOutput<'static> = ToSqlOutput::Borrowed(ValueRef::Null);

fn text(s: &str) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
}

/// Whether SQLite keeps this kind's values as text (TEXT affinity): numbers go in as their text.
fn is_text(kind: Kind) -> bool {
    matches!(kind, Kind::Text | Kind::Timestamp | Kind::Json)
}

/// Converts a cell as given (a record that skipped validation is stored as it is), refusing
/// numbers an INTEGER or REAL column would round.
fn to_sql<'r>(cell: &'r Cell<'_>) -> Result<ToSqlOutput<'r>, String> {
    Ok(match cell {
        Cell::Null => NULL,
        Cell::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
        Cell::Text(s, _) => text(s),
        Cell::Json(s) => text(s),
        Cell::Exact(s, kind) if is_text(*kind) => text(s),
        Cell::Exact(s, _) => {
            return Err(format!(
                "number {s} does not fit a 64-bit integer or a double exactly"
            ));
        }
        Cell::Value(value, kind) => match value {
            Value::Null => NULL,
            _ if *kind == Kind::Json => ToSqlOutput::Owned(SqlValue::Text(value.to_string())),
            Value::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
            Value::Number(n) if is_text(*kind) => ToSqlOutput::Owned(SqlValue::Text(n.to_string())),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) if *kind != Kind::Number || i.abs() <= EXACT_DOUBLE_INTEGER => {
                    ToSqlOutput::Owned(SqlValue::Integer(i))
                }
                (Some(_), _) => {
                    return Err(format!("integer {n} does not fit a double (REAL) exactly"));
                }
                (None, _) if n.is_u64() => {
                    return Err(format!("integer {n} does not fit a 64-bit signed integer"));
                }
                (None, Some(f)) => ToSqlOutput::Owned(SqlValue::Real(f)),
                (None, None) => return Err(format!("number {n} is not a double")),
            },
            Value::String(s) => text(s),
            Value::Array(_) | Value::Object(_) => {
                ToSqlOutput::Owned(SqlValue::Text(value.to_string()))
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_stored_exactly_or_refused() {
        let big = json!(18446744073709551615_u64);
        assert!(to_sql(&Cell::Value(&big, Kind::Integer)).is_err());
        assert!(to_sql(&Cell::Value(&big, Kind::Text)).is_ok());
        let i = json!(9007199254740993_i64);
        assert!(to_sql(&Cell::Value(&i, Kind::Number)).is_err());
        assert!(to_sql(&Cell::Value(&i, Kind::Integer)).is_ok());
        let small = json!(9007199254740992_i64);
        assert!(to_sql(&Cell::Value(&small, Kind::Number)).is_ok());
        assert!(to_sql(&Cell::Exact("1e400", Kind::Number)).is_err());
        assert!(matches!(
            to_sql(&Cell::Exact("1e400", Kind::Json)),
            Ok(ToSqlOutput::Borrowed(ValueRef::Text(b"1e400")))
        ));
    }
}
