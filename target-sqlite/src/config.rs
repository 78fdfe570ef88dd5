//! The target's configuration file: serde data with defaults, and its generated JSON Schema.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use target_core::{OnInvalidRecord, Settings};

/// Configuration of `target-sqlite`, read from the JSON file given with `--config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Config {
    /// Path of the SQLite database file; missing parent folders are created.
    pub database: PathBuf,
    /// The settings every target shares.
    #[serde(flatten)]
    pub settings: Settings,
    /// SQLite journal mode.
    #[serde(default)]
    pub journal_mode: JournalMode,
    /// SQLite synchronous setting; FULL makes each commit that precedes an echoed STATE durable.
    #[serde(default)]
    pub synchronous: Synchronous,
}

/// SQLite `journal_mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
#[schemars(transform = lowercase_too)]
pub enum JournalMode {
    /// Write-ahead log: readers never block the loader.
    #[default]
    #[serde(alias = "wal")]
    Wal,
    /// Rollback journal, deleted after each transaction.
    #[serde(alias = "delete")]
    Delete,
    /// Rollback journal, truncated after each transaction.
    #[serde(alias = "truncate")]
    Truncate,
}

/// SQLite `synchronous`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
#[schemars(transform = lowercase_too)]
pub enum Synchronous {
    /// fsync at every commit: a committed STATE survives power loss.
    #[default]
    #[serde(alias = "full")]
    Full,
    /// fsync at checkpoints only (WAL): faster, a power loss may undo the last commits.
    #[serde(alias = "normal")]
    Normal,
    /// No fsync at all.
    #[serde(alias = "off")]
    Off,
}

/// Adds each `oneOf` constant in lower case too, as SQLite's pragmas take either.
fn lowercase_too(schema: &mut schemars::Schema) {
    let Some(serde_json::Value::Array(options)) = schema.get_mut("oneOf") else {
        return;
    };
    let lower: Vec<serde_json::Value> = options
        .iter()
        .filter_map(|o| {
            let c = o.get("const")?.as_str()?;
            let mut o = o.clone();
            o["const"] = serde_json::Value::String(c.to_lowercase());
            Some(o)
        })
        .collect();
    options.extend(lower);
}

impl Config {
    /// Reads and checks a config file; errors name the file and the key at fault.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Parses config JSON text; unknown keys are an error naming the key.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(target_core::settings::parse_config(text, |c: &Self| {
            &c.settings
        })?)
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
    fn pragmas_are_accepted_in_lower_case() {
        let c = Config::parse(
            r#"{"database": "x.db", "journal_mode": "delete", "synchronous": "normal"}"#,
        )
        .expect("valid");
        assert_eq!(
            (c.journal_mode, c.synchronous),
            (JournalMode::Delete, Synchronous::Normal)
        );
    }

    #[test]
    fn defaults() {
        let c = Config::parse(r#"{"database": "x.db"}"#).expect("valid");
        assert_eq!(c.settings, Settings::default());
        assert_eq!(c.settings.batch_size_rows, 100_000);
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
            Config::parse(text)
                .expect("valid")
                .settings
                .on_invalid_record,
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
