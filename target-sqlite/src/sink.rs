//! One stream's table: creating and evolving it, and writing records with prepared statements.

use std::collections::HashSet;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, Statement};
use serde_json::{Map, Value};

use crate::ddl::{self, Column, Kind, Node, Shape};
use crate::names::quote;

/// The metadata columns added when `add_record_metadata` is on, with their kinds.
pub const METADATA_COLUMNS: [(&str, Kind); 6] = [
    ("_sdc_extracted_at", Kind::Text),
    ("_sdc_received_at", Kind::Text),
    ("_sdc_batched_at", Kind::Text),
    ("_sdc_deleted_at", Kind::Text),
    ("_sdc_sequence", Kind::Integer),
    ("_sdc_table_version", Kind::Integer),
];

/// Per-record metadata values, in the order of [`METADATA_COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta<'a> {
    /// `time_extracted` of the message.
    pub extracted_at: Option<&'a str>,
    /// When the target read the record.
    pub received_at: &'a str,
    /// When the open transaction began.
    pub batched_at: &'a str,
    /// The record's own `_sdc_deleted_at`, if it carries one.
    pub deleted_at: Option<&'a str>,
    /// A number that grows with every record the target writes.
    pub sequence: i64,
    /// The message's table version.
    pub version: Option<i64>,
}

/// What writing a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new row.
    Inserted,
    /// An existing row with the same key was replaced.
    Updated,
}

/// A problem with a stream's schema or table that stops the load.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The schema cannot be mapped to columns.
    #[error(transparent)]
    Schema(#[from] ddl::SchemaError),
    /// A key property is not a top-level scalar property of the schema.
    #[error("key property `{0}` is not a declared top-level scalar property")]
    UnknownKey(String),
    /// The existing table's primary key differs from `key_properties`.
    #[error(
        "key_properties {wanted:?} differ from the primary key {existing:?} of existing table `{table}`"
    )]
    KeyChanged {
        /// The table.
        table: String,
        /// Its primary key columns.
        existing: Vec<String>,
        /// The columns `key_properties` map to.
        wanted: Vec<String>,
    },
    /// The schema gives the table no column at all.
    #[error("schema gives table `{0}` no columns")]
    NoColumns(String),
    /// SQLite refused a statement.
    #[error("SQLite: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// Where a column's value comes from.
#[derive(Debug, Clone)]
enum Source {
    /// A (possibly nested) record property, filled in by walking the record with the [`Plan`].
    Property,
    /// One of [`METADATA_COLUMNS`], by index.
    Metadata(usize),
    /// A column the current schema no longer has: NULL from now on.
    Gone,
}

/// A stream's table and its prepared statements.
pub struct Sink<'c> {
    /// The stream's name.
    pub stream: String,
    /// The table's name.
    pub table: String,
    /// The SCHEMA message's schema, to recognise a repeated identical SCHEMA.
    pub schema: Value,
    /// The SCHEMA message's key properties.
    pub key_properties: Vec<String>,
    sources: Vec<Source>,
    plan: Plan,
    /// Undeclared properties already warned about; the sink of a later SCHEMA takes them over.
    pub warned: HashSet<String>,
    insert: Statement<'c>,
    update: Option<Statement<'c>>,
    versions: Option<(Statement<'c>, Statement<'c>)>,
}

impl<'c> Sink<'c> {
    /// Creates or evolves the stream's table and prepares its statements.
    pub fn open(
        conn: &'c Connection,
        stream: &str,
        table: &str,
        schema: &Value,
        key_properties: &[String],
        config: &crate::Config,
    ) -> Result<Self, SinkError> {
        let (columns, shape) = ddl::columns(schema, config.flatten_max_depth)?;
        let metadata: &[(&str, Kind)] = if config.add_record_metadata {
            &METADATA_COLUMNS
        } else {
            &[]
        };
        for key in key_properties {
            if !columns
                .iter()
                .any(|c| c.path.len() == 1 && &c.path[0] == key)
            {
                return Err(SinkError::UnknownKey(key.clone()));
            }
        }
        let mut wanted: Vec<(String, Kind, Source)> = Vec::new();
        for column in columns {
            let Column { name, kind, .. } = column;
            if metadata.iter().any(|(m, _)| *m == name) {
                tracing::warn!(stream, column = %name, "property has a metadata column's name; the metadata column wins");
                continue;
            }
            wanted.push((name, kind, Source::Property));
        }
        for (i, (name, kind)) in metadata.iter().enumerate() {
            wanted.push(((*name).to_string(), *kind, Source::Metadata(i)));
        }
        let keys: Vec<String> = key_properties
            .iter()
            .map(|k| crate::names::normalise(k))
            .collect();
        let sources = ensure_table(conn, table, &wanted, &keys)?;
        let names: Vec<&str> = sources.iter().map(|(n, _)| n.as_str()).collect();
        let plan = Plan::new(&shape, &names);
        let (insert, update) = prepare_writes(conn, table, &names, &keys)?;
        let versions = if config.add_record_metadata {
            Some(prepare_versions(conn, table)?)
        } else {
            None
        };
        Ok(Self {
            stream: stream.to_string(),
            table: table.to_string(),
            schema: schema.clone(),
            key_properties: key_properties.to_vec(),
            sources: sources.into_iter().map(|(_, s)| s).collect(),
            plan,
            warned: HashSet::new(),
            insert,
            update,
            versions,
        })
    }

    /// Checks that every key property is present and not null.
    pub fn check_keys(&self, record: &Map<String, Value>) -> Result<(), String> {
        for key in &self.key_properties {
            match record.get(key) {
                None => return Err(format!("record is missing key property `{key}`")),
                Some(Value::Null) => return Err(format!("key property `{key}` is null")),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Writes one record: inserted, or upserted by key when the stream has keys. Properties the
    /// schema does not declare are dropped, with one warning per property.
    pub fn write<'r>(
        &mut self,
        record: &'r Map<String, Value>,
        meta: &RecordMeta<'r>,
    ) -> rusqlite::Result<Outcome> {
        let mut values: Vec<ToSqlOutput<'r>> = self
            .sources
            .iter()
            .map(|s| match s {
                Source::Metadata(i) => metadata_value(*i, meta),
                Source::Property | Source::Gone => NULL,
            })
            .collect();
        let mut undeclared = Vec::new();
        self.plan.fill(record, &mut values, &mut undeclared);
        for path in undeclared {
            if self.warned.insert(path.clone()) {
                tracing::warn!(stream = %self.stream, property = %path, "dropping property the schema does not declare");
            }
        }
        for (i, v) in values.iter().enumerate() {
            self.insert.raw_bind_parameter(i + 1, v)?;
        }
        if self.insert.raw_execute()? == 1 {
            return Ok(Outcome::Inserted);
        }
        // INSERT OR IGNORE skipped the row: a row with this key exists, so update it.
        let Some(update) = self.update.as_mut() else {
            return Ok(Outcome::Inserted);
        };
        for (i, v) in values.iter().enumerate() {
            update.raw_bind_parameter(i + 1, v)?;
        }
        update.raw_execute()?;
        Ok(Outcome::Updated)
    }

    /// Applies ACTIVATE_VERSION: rows of older versions are deleted (`hard`) or marked deleted.
    /// Returns how many rows it touched, or `None` without metadata columns.
    pub fn activate_version(
        &mut self,
        version: i64,
        hard: bool,
        now: &str,
    ) -> rusqlite::Result<Option<usize>> {
        let Some((delete, mark)) = self.versions.as_mut() else {
            return Ok(None);
        };
        let n = if hard {
            delete.execute([version])?
        } else {
            mark.execute(rusqlite::params![now, version])?
        };
        Ok(Some(n))
    }
}

/// Creates the table or adds missing columns; returns every column with its value source.
fn ensure_table(
    conn: &Connection,
    table: &str,
    wanted: &[(String, Kind, Source)],
    keys: &[String],
) -> Result<Vec<(String, Source)>, SinkError> {
    let existing = existing_columns(conn, table)?;
    if existing.is_empty() {
        if wanted.is_empty() {
            return Err(SinkError::NoColumns(table.to_string()));
        }
        let mut defs: Vec<String> = wanted
            .iter()
            .map(|(n, k, _)| format!("{} {}", quote(n), k.sql_type()))
            .collect();
        if !keys.is_empty() {
            let pk: Vec<String> = keys.iter().map(|k| quote(k)).collect();
            defs.push(format!("PRIMARY KEY ({})", pk.join(", ")));
        }
        conn.execute_batch(&format!(
            "CREATE TABLE {} ({})",
            quote(table),
            defs.join(", ")
        ))?;
        return Ok(wanted
            .iter()
            .map(|(n, _, s)| (n.clone(), s.clone()))
            .collect());
    }
    let mut pk: Vec<(i64, String)> = existing
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| (c.pk, c.name.clone()))
        .collect();
    pk.sort();
    let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
    if pk != keys {
        return Err(SinkError::KeyChanged {
            table: table.to_string(),
            existing: pk,
            wanted: keys.to_vec(),
        });
    }
    let mut out = Vec::new();
    for column in &existing {
        match wanted.iter().find(|(n, _, _)| *n == column.name) {
            Some((_, kind, source)) => {
                if !column.declared.eq_ignore_ascii_case(kind.sql_type()) {
                    tracing::warn!(table, column = %column.name, was = %column.declared, now = kind.sql_type(),
                        "column type changed in the schema; keeping the column as it is");
                }
                out.push((column.name.clone(), source.clone()));
            }
            None => out.push((column.name.clone(), Source::Gone)),
        }
    }
    for (name, kind, source) in wanted {
        if existing.iter().all(|c| c.name != *name) {
            conn.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {} {}",
                quote(table),
                quote(name),
                kind.sql_type()
            ))?;
            tracing::info!(table, column = %name, "added column");
            out.push((name.clone(), source.clone()));
        }
    }
    Ok(out)
}

struct ExistingColumn {
    name: String,
    declared: String,
    pk: i64,
}

fn existing_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<ExistingColumn>> {
    let mut stmt = conn.prepare("SELECT name, type, pk FROM pragma_table_info(?1)")?;
    let rows = stmt.query_map([table], |row| {
        Ok(ExistingColumn {
            name: row.get(0)?,
            declared: row.get(1)?,
            pk: row.get(2)?,
        })
    })?;
    rows.collect()
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

/// The value of metadata column `i` of [`METADATA_COLUMNS`].
fn metadata_value<'r>(i: usize, meta: &RecordMeta<'r>) -> ToSqlOutput<'r> {
    let text = |s: Option<&'r str>| {
        s.map_or(NULL, |s| {
            ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
        })
    };
    match i {
        0 => text(meta.extracted_at),
        1 => text(Some(meta.received_at)),
        2 => text(Some(meta.batched_at)),
        3 => text(meta.deleted_at),
        4 => ToSqlOutput::Owned(SqlValue::Integer(meta.sequence)),
        _ => meta
            .version
            .map_or(NULL, |v| ToSqlOutput::Owned(SqlValue::Integer(v))),
    }
}

/// How to walk a record into statement parameters: the schema's [`Shape`] with each column
/// replaced by its parameter index.
#[derive(Debug)]
struct Plan {
    properties: Vec<(String, Slot)>,
}

#[derive(Debug)]
enum Slot {
    Column(usize, Kind),
    Object(Plan),
    /// Declared, but its column is a metadata column's.
    Skip,
}

impl Plan {
    fn new(shape: &Shape, names: &[&str]) -> Self {
        let properties = shape
            .properties
            .iter()
            .map(|(name, node)| {
                let slot = match node {
                    Node::Column(column, kind) => names
                        .iter()
                        .position(|n| n == column)
                        .map_or(Slot::Skip, |i| Slot::Column(i, *kind)),
                    Node::Object(inner) => Slot::Object(Plan::new(inner, names)),
                };
                (name.clone(), slot)
            })
            .collect();
        Self { properties }
    }

    /// Puts each property's value in its parameter slot and collects undeclared property paths.
    /// Both key lists are usually sorted the same way, so this is mostly a merge, not a search.
    fn fill<'r>(
        &self,
        record: &'r Map<String, Value>,
        values: &mut [ToSqlOutput<'r>],
        undeclared: &mut Vec<String>,
    ) {
        let mut cursor = 0;
        for (key, value) in record {
            let slot = match self.properties.get(cursor) {
                Some((name, slot)) if name == key => {
                    cursor += 1;
                    slot
                }
                _ => match self
                    .properties
                    .binary_search_by(|(n, _)| n.as_str().cmp(key))
                {
                    Ok(i) => {
                        cursor = i + 1;
                        &self.properties[i].1
                    }
                    Err(_) => {
                        undeclared.push(key.clone());
                        continue;
                    }
                },
            };
            match (slot, value) {
                (Slot::Column(i, kind), _) => values[*i] = to_sql(value, *kind),
                (Slot::Object(inner), Value::Object(fields)) => {
                    let before = undeclared.len();
                    inner.fill(fields, values, undeclared);
                    for path in &mut undeclared[before..] {
                        *path = format!("{key}.{path}");
                    }
                }
                (Slot::Object(_) | Slot::Skip, _) => {}
            }
        }
    }
}

/// Converts a JSON value as it is, so a record that skipped validation is stored as given.
fn to_sql(value: &Value, kind: Kind) -> ToSqlOutput<'_> {
    match value {
        Value::Null => NULL,
        _ if kind == Kind::Json => ToSqlOutput::Owned(SqlValue::Text(value.to_string())),
        Value::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ToSqlOutput::Owned(SqlValue::Integer(i)),
            None => ToSqlOutput::Owned(SqlValue::Real(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Array(_) | Value::Object(_) => ToSqlOutput::Owned(SqlValue::Text(value.to_string())),
    }
}
