//! The end-of-run report: records per stream, requests, rows per table in `main` and `main_dbt`,
//! duration, state saved; as text for people and as one JSON object for orchestrators.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::relay::Metrics;
use crate::state_store::RunStatus;

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The pipeline's name.
    pub pipeline: String,
    /// The tap's name: its program's, or `tap-<connector>` for a connector run by `tap-rest`.
    pub tap: String,
    /// How the run ended.
    pub status: RunStatus,
    /// The exit code tapline returns.
    pub exit_code: u8,
    /// RECORD messages per stream that went from tap to target.
    pub records: BTreeMap<String, u64>,
    /// HTTP requests the tap reported in its metric lines.
    pub requests: u64,
    /// Retries, rate-limit waits, 304s and 404s among them.
    pub http: HttpEvents,
    /// Bookmarks the target made durable and tapline stored.
    pub states_saved: u64,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// dbt commands run, with their outcome.
    pub dbt: Vec<DbtStep>,
    /// Whether dbt ran after the load, and why; `None` without dbt or a successful load.
    pub dbt_decision: Option<crate::dbt::decision::Decision>,
    /// Rows per table after the run.
    pub tables: Vec<TableRows>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// What the tap's requests met besides data, read from its metric lines and warnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HttpEvents {
    /// Requests retried after a 5xx, a timeout or a reset.
    pub retries: u64,
    /// Waits for a rate limit to reset.
    pub rate_limit_waits: u64,
    /// `304 Not Modified` answers (nothing new, no quota spent).
    pub not_modified: u64,
    /// `404 Not Found` answers.
    pub not_found: u64,
}

impl From<&Metrics> for HttpEvents {
    fn from(m: &Metrics) -> Self {
        let n = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        Self {
            retries: n(&m.retries),
            rate_limit_waits: n(&m.waits),
            not_modified: n(&m.not_modified),
            not_found: n(&m.not_found),
        }
    }
}

/// One dbt command.
#[derive(Debug, Clone, Serialize)]
pub struct DbtStep {
    /// e.g. `run`.
    pub command: String,
    /// Whether it exited 0.
    pub ok: bool,
    /// How long it took.
    pub seconds: f64,
}

/// Row count of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRows {
    /// `main` or `main_dbt`.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Rows.
    pub rows: i64,
}

/// Counts the rows of every table of `database` (`main`) and of `<schema_dir>/main_dbt.db`.
pub fn table_rows(database: &Path, schema_dir: Option<&Path>) -> Vec<TableRows> {
    let mut out = Vec::new();
    count_tables(database, "main", &mut out);
    if let Some(dir) = schema_dir {
        count_tables(&dir.join("main_dbt.db"), "main_dbt", &mut out);
    }
    out
}

fn count_tables(path: &Path, schema: &str, out: &mut Vec<TableRows>) {
    if !path.is_file() {
        return;
    }
    let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return;
    };
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_default();
    for table in names {
        let sql = format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\""));
        if let Ok(rows) = conn.query_row(&sql, [], |r| r.get(0)) {
            out.push(TableRows {
                schema: schema.to_string(),
                table,
                rows,
            });
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: u64 = self.records.values().sum();
        writeln!(
            f,
            "pipeline {}: {} in {:.2} s",
            self.pipeline,
            self.status.as_str(),
            self.seconds
        )?;
        let h = &self.http;
        writeln!(
            f,
            "  records: {total} from {} ({} requests: {} retried, {} rate-limit waits, {} not modified, {} not found)",
            self.tap, self.requests, h.retries, h.rate_limit_waits, h.not_modified, h.not_found
        )?;
        // One name column for streams and tables, as wide as the longest name.
        let w = self
            .records
            .keys()
            .map(String::len)
            .chain(self.tables.iter().map(|t| t.table.len()))
            .fold(24, usize::max);
        for (stream, n) in &self.records {
            writeln!(f, "    {stream:<w$} {n:>10}")?;
        }
        writeln!(f, "  state: {} bookmark(s) saved", self.states_saved)?;
        if let Some(d) = &self.dbt_decision {
            let verb = if d.ran { "ran" } else { "skipped" };
            writeln!(f, "  dbt {verb}: {}", d.reason)?;
        }
        for step in &self.dbt {
            writeln!(
                f,
                "  dbt {}: {} in {:.2} s",
                step.command,
                if step.ok { "ok" } else { "FAILED" },
                step.seconds
            )?;
        }
        let mut schema = "";
        for t in &self.tables {
            if t.schema != schema {
                schema = &t.schema;
                writeln!(f, "  tables in {schema}:")?;
            }
            writeln!(f, "    {:<w$} {:>10} rows", t.table, t.rows)?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "  error: {error}")?;
        }
        Ok(())
    }
}
