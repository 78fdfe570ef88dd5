//! The trait a database implements to be a target: transactions, tables and rows. Everything
//! else (naming, types, evolution decisions, validation, the STATE loop) is [`crate::load`]'s.

use crate::columns::{Kind, TypeMap};
use crate::evolution::ExistingColumn;
use crate::row::Cell;

/// An error from the database, boxed so the loader need not know its type.
pub type DbError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Rows a write or a flush inserted and updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// New rows.
    pub inserted: u64,
    /// Rows that replaced a row with the same key.
    pub updated: u64,
}

/// Why a row was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A value the column cannot hold exactly: the record goes to the invalid-record policy.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Db(DbError),
}

/// A record that the invalid-record policy keeps aside (`on_invalid_record = "reject"`).
#[derive(Debug, Clone, Copy)]
pub struct Rejected<'a> {
    /// Its stream.
    pub stream: &'a str,
    /// Its input line.
    pub line: u64,
    /// Why it was rejected.
    pub error: &'a str,
    /// The record as exact JSON text.
    pub record: &'a str,
    /// SHA-256 (hex) of `record`: with `stream`, the rejected table's key, so loading the same
    /// input again adds no duplicate rows.
    pub record_sha256: &'a str,
    /// When the target read it.
    pub received_at: &'a str,
}

/// A database a target loads. Calls come from one thread, inside a transaction the loader
/// opens with [`Backend::begin`]; DDL runs inside it too.
pub trait Backend {
    /// One stream's table, ready for rows (prepared statements, buffers).
    type Table;

    /// The column type of each kind.
    fn types(&self) -> &'static TypeMap;
    /// The longest identifier in bytes, when the database limits it.
    fn max_identifier_bytes(&self) -> Option<usize>;

    /// Opens a transaction.
    fn begin(&mut self) -> Result<(), DbError>;
    /// Commits the open transaction (tables are flushed first by the loader).
    fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls the open transaction back; every table handle has been dropped.
    fn rollback(&mut self) -> Result<(), DbError>;
    /// Marks the point the last STATE received covers (tables are flushed first).
    fn savepoint(&mut self) -> Result<(), DbError>;
    /// Undoes everything since the last [`Backend::savepoint`]; table handles have been dropped.
    fn rollback_to_savepoint(&mut self) -> Result<(), DbError>;

    /// The columns of an existing table, or an empty list when there is none.
    fn existing_columns(&mut self, table: &str) -> Result<Vec<ExistingColumn>, DbError>;
    /// Creates a table with these columns and primary key (empty: none).
    fn create_table(
        &mut self,
        table: &str,
        columns: &[(String, Kind)],
        keys: &[String],
    ) -> Result<(), DbError>;
    /// Adds a column to an existing table.
    fn add_column(&mut self, table: &str, column: &str, kind: Kind) -> Result<(), DbError>;
    /// Prepares writes into a table whose columns are now exactly `columns`, in that order.
    fn open_table(
        &mut self,
        table: &str,
        columns: &[(String, Kind)],
        keys: &[String],
    ) -> Result<Self::Table, DbError>;

    /// Writes one row (one cell per column): inserted, or upserted by key. A database that
    /// batches may write later, in [`Backend::flush`], and count it then.
    fn write(&mut self, table: &mut Self::Table, row: &[Cell<'_>]) -> Result<Counts, WriteError>;
    /// Writes whatever rows the table still holds back, before anything asked of the database
    /// after it. A database that works on its own thread may return before the rows are
    /// written, and count them in [`Backend::settled_counts`]; its errors then come with the
    /// next call that waits (a commit at the latest).
    fn flush(&mut self, table: &mut Self::Table) -> Result<Counts, DbError>;
    /// Counts of rows written since [`Backend::flush`] returned, by table, once they are known
    /// (after a commit, every one).
    fn settled_counts(&mut self) -> Vec<(String, Counts)> {
        Vec::new()
    }
    /// ACTIVATE_VERSION: rows of older (or no) versions are deleted (`hard`) or get
    /// `_sdc_deleted_at = now`. Returns how many rows it touched. The table is flushed first.
    fn activate_version(
        &mut self,
        table: &mut Self::Table,
        version: i64,
        hard: bool,
        now: &str,
    ) -> Result<u64, DbError>;
    /// Keeps a rejected record in `_sdc_rejected_records` (one row per stream and record).
    fn reject(&mut self, rejected: &Rejected<'_>) -> Result<(), DbError>;
}
