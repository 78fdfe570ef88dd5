//! The settings every target shares, and strict parsing of a target's config file.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Settings of the load itself, the same in every target; each target's config embeds them
/// (`#[serde(flatten)]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// Rows after which the next STATE commits the open transaction.
    #[serde(default = "default_batch_size_rows")]
    #[schemars(range(min = 1))]
    pub batch_size_rows: u64,
    /// Nesting depth up to which objects with declared properties become `parent__child`
    /// columns; deeper objects are stored as JSON.
    #[serde(default = "default_flatten_max_depth")]
    pub flatten_max_depth: usize,
    /// Add the `_sdc_*` metadata columns.
    #[serde(default = "yes")]
    pub add_record_metadata: bool,
    /// Validate each record against its stream's JSON Schema.
    #[serde(default = "yes")]
    pub validate_records: bool,
    /// What to do with a record that fails validation or cannot be stored exactly.
    #[serde(default)]
    pub on_invalid_record: OnInvalidRecord,
    /// On ACTIVATE_VERSION, delete rows of older versions instead of setting `_sdc_deleted_at`.
    #[serde(default)]
    pub hard_delete: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch_size_rows: default_batch_size_rows(),
            flatten_max_depth: default_flatten_max_depth(),
            add_record_metadata: true,
            validate_records: true,
            on_invalid_record: OnInvalidRecord::Fail,
            hard_delete: false,
        }
    }
}

/// What happens to a record that fails validation or cannot be stored exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnInvalidRecord {
    /// Stop with an error, after committing what the last STATE received covers.
    #[default]
    Fail,
    /// Store it in `_sdc_rejected_records` and go on.
    Reject,
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

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON, or a value of the wrong type.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A key the config does not have.
    #[error("unknown field `{0}`, expected one of {1}")]
    UnknownField(String, String),
    /// A value out of its range.
    #[error("{0}")]
    Invalid(String),
}

/// Parses config JSON text into `T`, refusing keys `T`'s JSON Schema does not list (serde's
/// `deny_unknown_fields` does not work across `#[serde(flatten)]`), and checks the shared
/// settings' ranges.
pub fn parse_config<T: DeserializeOwned + JsonSchema>(
    text: &str,
    settings: impl Fn(&T) -> &Settings,
) -> Result<T, ConfigError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default();
    let mut known: Vec<&str> = schema["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // Required keys first, as a reader looks for them first.
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    known.sort_by_key(|k| !required.contains(k));
    if let Some(object) = value.as_object()
        && let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str()))
    {
        let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        return Err(ConfigError::UnknownField(
            unknown.clone(),
            expected.join(", "),
        ));
    }
    let config: T = serde_json::from_value(value)?;
    if settings(&config).batch_size_rows < 1 {
        return Err(ConfigError::Invalid(
            "batch_size_rows must be at least 1".into(),
        ));
    }
    Ok(config)
}
