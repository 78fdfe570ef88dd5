//! Opening the database file with the configured durability settings.

use std::path::Path;

use anyhow::Context as _;
use rusqlite::Connection;

use crate::config::{Config, JournalMode, Synchronous};

/// Page size of new databases, in bytes.
const PAGE_SIZE: u32 = 16384;

/// Page cache, in KiB: large enough that a batch rarely spills pages to the WAL twice.
const CACHE_KIB: u32 = 16384;

/// Opens (creating it and its parent folders if needed) the configured database.
pub fn open(config: &Config) -> anyhow::Result<Connection> {
    let path = &config.database;
    let shown = path.display();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| {
            format!(
                "cannot create folder {} for database {shown}",
                parent.display()
            )
        })?;
    }
    let conn = Connection::open(path).with_context(|| format!("cannot open database {shown}"))?;
    configure(&conn, config).with_context(|| format!("cannot use database {shown}"))?;
    Ok(conn)
}

fn configure(conn: &Connection, config: &Config) -> rusqlite::Result<()> {
    let journal = match config.journal_mode {
        JournalMode::Wal => "WAL",
        JournalMode::Delete => "DELETE",
        JournalMode::Truncate => "TRUNCATE",
    };
    let synchronous = match config.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
        Synchronous::Off => "OFF",
    };
    // Only takes effect on a new, empty database: bigger pages mean fewer b-tree splits and WAL
    // frames for records of a kilobyte or more.
    conn.execute_batch(&format!(
        "PRAGMA page_size = {PAGE_SIZE}; PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    // journal_mode answers with a row; reading it also proves the file is a database.
    let _mode: String = conn.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |r| {
        r.get(0)
    })?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 5000;"
    ))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Whether `path` exists and is a SQLite database (used by tests and tools).
pub fn is_database(path: &Path) -> bool {
    Connection::open(path)
        .and_then(|c| {
            c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .is_ok()
}
