//! The settings a connector needs, declared in its definitions (`[settings.NAME]`), plus the
//! engine's own (start date, concurrency, retries, …) that every connector has. Together they
//! make the config JSON Schema, the `--about` document and the config check that runs before
//! any request.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

/// One setting.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingDef {
    /// Its JSON type.
    #[serde(rename = "type")]
    pub kind: SettingType,
    /// The type of an array's items (default string).
    #[serde(default)]
    pub items: Option<SettingType>,
    /// One or two sentences for `--about` and the schema.
    #[serde(default)]
    pub description: String,
    /// The config must give it (after the environment fallback).
    #[serde(default)]
    pub required: bool,
    /// Never logged, printed or stored; masked wherever it could appear.
    #[serde(default)]
    pub secret: bool,
    /// The value when the config gives none.
    #[serde(default)]
    pub default: Option<toml::Value>,
    /// An environment variable read when the config gives no value.
    #[serde(default)]
    pub env: Option<String>,
    /// A regular expression a string (or each string item) must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// A string format: `uri` or `date-time` (dates are normalised to UTC).
    #[serde(default)]
    pub format: Option<String>,
    /// The allowed values.
    #[serde(default, rename = "enum")]
    pub one_of: Option<Vec<String>>,
    /// Smallest number allowed.
    #[serde(default)]
    pub minimum: Option<f64>,
    /// Largest number allowed.
    #[serde(default)]
    pub maximum: Option<f64>,
}

/// JSON types a setting can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingType {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list.
    Array,
    /// A JSON object.
    Object,
}

impl SettingType {
    fn json(self) -> &'static str {
        match self {
            SettingType::String => "string",
            SettingType::Integer => "integer",
            SettingType::Number => "number",
            SettingType::Boolean => "boolean",
            SettingType::Array => "array",
            SettingType::Object => "object",
        }
    }
}

impl SettingDef {
    /// The setting's JSON Schema.
    pub fn schema(&self) -> Value {
        let mut s = json!({"type": self.kind.json()});
        if !self.description.is_empty() {
            s["description"] = json!(self.description);
        }
        if let Some(d) = &self.default {
            s["default"] = serde_json::to_value(d).unwrap_or(Value::Null);
        }
        let mut item = json!({"type": self.items.unwrap_or(SettingType::String).json()});
        let target = if self.kind == SettingType::Array {
            &mut item
        } else {
            &mut s
        };
        if let Some(p) = &self.pattern {
            target["pattern"] = json!(p);
        }
        if let Some(f) = &self.format {
            target["format"] = json!(f);
        }
        if let Some(e) = &self.one_of {
            target["enum"] = json!(e);
        }
        if self.kind == SettingType::Array {
            s["items"] = item;
        }
        if let Some(m) = self.minimum {
            s["minimum"] = json!(m);
        }
        if let Some(m) = self.maximum {
            s["maximum"] = json!(m);
        }
        if self.secret {
            s["writeOnly"] = json!(true);
        }
        s
    }
}

/// Names of the engine's own settings (they cannot be redeclared by a connector).
pub const BUILTIN: [&str; 10] = [
    "start_date",
    "user_agent",
    "max_concurrency",
    "request_timeout_s",
    "max_retries",
    "rate_limit_buffer",
    "max_rate_limit_wait_s",
    "lookback_s",
    "definitions",
    "shard",
];

/// The engine's own settings as data, with their schemas.
pub fn builtin() -> BTreeMap<&'static str, Value> {
    BTreeMap::from([
        (
            "start_date",
            json!({"type": "string", "format": "date-time",
                   "description": "RFC 3339 date-time: lower bound of incremental streams on a first run; none means all history."}),
        ),
        (
            "user_agent",
            json!({"type": "string", "description": "User-Agent header (the connector declares the default)."}),
        ),
        (
            "max_concurrency",
            json!({"type": "integer", "minimum": 1, "maximum": 64, "default": 4,
                   "description": "Stream × partition jobs in flight at once."}),
        ),
        (
            "request_timeout_s",
            json!({"type": "integer", "minimum": 1, "default": 30,
                   "description": "Timeout of one request, body included, in seconds."}),
        ),
        (
            "max_retries",
            json!({"type": "integer", "minimum": 0, "default": 5,
                   "description": "Retries of a request after 5xx, timeouts, resets and truncated bodies."}),
        ),
        (
            "rate_limit_buffer",
            json!({"type": "integer", "minimum": 0,
                   "description": "Pause until the rate limit resets when fewer requests remain; default 5% of the limit the API reports."}),
        ),
        (
            "max_rate_limit_wait_s",
            json!({"type": "integer", "minimum": 0, "default": 3600,
                   "description": "Longest single wait for a rate limit, in seconds; a longer one fails the run."}),
        ),
        (
            "lookback_s",
            json!({"anyOf": [
                       {"type": "integer", "minimum": 0},
                       {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}],
                   "default": 0,
                   "description": "Seconds before the bookmark an incremental run starts: a number for every stream (raising the definitions' own lookback), or an object of stream name → seconds."}),
        ),
        (
            "shard",
            json!({"type": "string", "pattern": "^[0-9]+/[0-9]+$",
                   "description": "K/N: run only the partitions whose FNV-1a hash falls in shard K of N, and only partitioned incremental streams (the others run unsharded)."}),
        ),
        (
            "definitions",
            json!({"type": "string",
                   "description": "Path of a definitions file to run (tap-rest only; for Meltano, which passes only --config)."}),
        ),
    ])
}
