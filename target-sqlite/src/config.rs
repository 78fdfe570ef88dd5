//! The target's configuration file: serde data with defaults, and its generated JSON Schema.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Configuration of `target-sqlite`, read from the JSON file given with `--config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path of the SQLite database file; missing parent folders are created.
    pub database: PathBuf,
    /// Rows after which the next STATE commits the open transaction.
    #[serde(default = "default_batch_size_rows")]
    #[schemars(range(min = 1))]
    pub batch_size_rows: u64,
    /// Nesting depth up to which objects with declared properties become `parent__child`
    /// columns; deeper objects are stored as JSON text.
    #[serde(default = "default_flatten_max_depth")]
    pub flatten_max_depth: usize,
    /// Add the `_sdc_*` metadata columns.
    #[serde(default = "yes")]
    pub add_record_metadata: bool,
    /// Validate each record against its stream's JSON Schema.
    #[serde(default = "yes")]
    pub validate_records: bool,
    /// What to do with a record that fails validation.
    #[serde(default)]
    pub on_invalid_record: OnInvalidRecord,
    /// On ACTIVATE_VERSION, delete rows of older versions instead of setting `_sdc_deleted_at`.
    #[serde(default)]
    pub hard_delete: bool,
    /// SQLite journal mode.
    #[serde(default)]
    pub journal_mode: JournalMode,
    /// SQLite synchronous setting; FULL makes each commit that precedes an echoed STATE durable.
    #[serde(default)]
    pub synchronous: Synchronous,
}

/// What happens to a record that fails validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnInvalidRecord {
    /// Stop with an error; nothing after the last echoed STATE is committed.
    #[default]
    Fail,
    /// Store it in `_sdc_rejected_records` and go on.
    Reject,
}

/// SQLite `journal_mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum JournalMode {
    /// Write-ahead log: readers never block the loader.
    #[default]
    Wal,
    /// Rollback journal, deleted after each transaction.
    Delete,
    /// Rollback journal, truncated after each transaction.
    Truncate,
}

/// SQLite `synchronous`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Synchronous {
    /// fsync at every commit: a committed STATE survives power loss.
    #[default]
    Full,
    /// fsync at checkpoints only (WAL): faster, a power loss may undo the last commits.
    Normal,
    /// No fsync at all.
    Off,
}

fn default_batch_size_rows() -> u64 {
    100_000
}

fn default_flatten_max_depth() -> usize {
    10
}

fn yes() -> bool {
    true
}

impl Config {
    /// Reads and checks a config file; errors name the file and the key at fault.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Parses config JSON text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: Self = serde_json::from_str(text)?;
        anyhow::ensure!(
            config.batch_size_rows >= 1,
            "batch_size_rows must be at least 1"
        );
        Ok(config)
    }

    /// The config's JSON Schema, as checked in at `schemas/target-sqlite.config.json`.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::parse(r#"{"database": "x.db"}"#).expect("valid");
        assert_eq!(c.batch_size_rows, 100_000);
        assert_eq!(c.flatten_max_depth, 10);
        assert!(c.add_record_metadata && c.validate_records && !c.hard_delete);
        assert_eq!(c.on_invalid_record, OnInvalidRecord::Fail);
        assert_eq!(
            (c.journal_mode, c.synchronous),
            (JournalMode::Wal, Synchronous::Full)
        );
    }

    #[test]
    fn documented_example_parses() {
        let text = r#"{"database": "data/github.db", "batch_size_rows": 50000, "flatten_max_depth": 2,
            "add_record_metadata": true, "validate_records": true, "on_invalid_record": "reject",
            "hard_delete": false, "journal_mode": "WAL", "synchronous": "FULL"}"#;
        assert_eq!(
            Config::parse(text).expect("valid").on_invalid_record,
            OnInvalidRecord::Reject
        );
    }

    #[test]
    fn errors_name_the_key() {
        let err =
            Config::parse(r#"{"database": "x.db", "batch_size": 5}"#).expect_err("unknown key");
        assert!(
            err.to_string().contains("unknown field `batch_size`"),
            "{err}"
        );
        let err = Config::parse(r#"{"database": "x.db", "on_invalid_record": "skip"}"#)
            .expect_err("bad value");
        assert!(err.to_string().contains("unknown variant `skip`"), "{err}");
        let err = Config::parse(r#"{}"#).expect_err("missing database");
        assert!(
            err.to_string().contains("missing field `database`"),
            "{err}"
        );
        assert!(Config::parse(r#"{"database": "x.db", "batch_size_rows": 0}"#).is_err());
    }
}
