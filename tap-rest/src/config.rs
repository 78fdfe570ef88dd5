//! A connector's config: the JSON Schema its settings make (with the engine's own), the check of
//! a config file against it before any request (every problem at once, each naming its key), and
//! the resolved values: defaults, environment fallbacks, dates in UTC, secrets to mask.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::defs::settings::{self, SettingType};
use crate::defs::template::Target;
use crate::defs::{Definitions, Template};
use crate::engine::{HttpOptions, Lookback};

/// A config that passed the check.
#[derive(Clone)]
pub struct Config {
    /// Every setting with a value: the config's, else the environment's, else the default.
    pub values: Map<String, Value>,
    /// Values of secret settings (masked wherever text is printed).
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Map<String, Value> = self
            .values
            .iter()
            .map(|(k, v)| {
                let secret = v
                    .as_str()
                    .is_some_and(|s| self.secrets.iter().any(|x| x == s));
                (
                    k.clone(),
                    if secret { json!("********") } else { v.clone() },
                )
            })
            .collect();
        f.debug_struct("Config").field("values", &shown).finish()
    }
}

/// Every problem of a config, each naming its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

/// The JSON Schema of a connector's config: its settings, the engine's, `require_any`.
pub fn schema(defs: &Definitions) -> Value {
    let mut props: BTreeMap<String, Value> = settings::builtin()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (name, s) in &defs.settings {
        props.insert(name.clone(), s.schema());
    }
    let required: Vec<&String> = defs
        .settings
        .iter()
        .filter(|(_, s)| s.required && s.default.is_none() && s.env.is_none())
        .map(|(k, _)| k)
        .collect();
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("tap-{} config", defs.connector.name),
        "type": "object",
        "additionalProperties": false,
        "properties": props,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// Checks `config` against the connector's settings and resolves it.
pub fn check(defs: &Definitions, config: &Value) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let Some(given) = config.as_object() else {
        return Err(ConfigError(vec!["the config is not a JSON object".into()]));
    };
    let schema = schema(defs);
    match jsonschema::validator_for(&schema) {
        Ok(v) => {
            for e in v.iter_errors(config) {
                if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                    e.kind()
                {
                    for k in unexpected {
                        problems.push(unknown(k, &schema));
                    }
                    continue;
                }
                let key = key_path(&e.instance_path().to_string());
                let what = e.masked().to_string();
                problems.push(if key.is_empty() {
                    what
                } else {
                    format!("`{key}`: {what}")
                });
            }
        }
        Err(e) => problems.push(format!("the settings' schema is invalid: {e}")),
    }
    let mut values = Map::new();
    let mut secrets = Vec::new();
    let builtin = settings::builtin();
    for (name, s) in builtin.iter() {
        let value = given
            .get(*name)
            .cloned()
            .or_else(|| s.get("default").cloned());
        if let Some(v) = value {
            values.insert((*name).to_owned(), v);
        }
    }
    for (name, s) in &defs.settings {
        let from_env = || {
            s.env
                .as_deref()
                .and_then(|e| std::env::var(e).ok())
                .map(|text| env_value(s.kind, &text))
        };
        let value = given.get(name).cloned().or_else(from_env).or_else(|| {
            s.default
                .as_ref()
                .and_then(|d| serde_json::to_value(d).ok())
        });
        match value {
            Some(v) => {
                if s.secret
                    && let Some(t) = v.as_str()
                    && !t.is_empty()
                {
                    secrets.push(t.to_owned());
                }
                values.insert(name.clone(), v);
            }
            None if s.required && !given.contains_key(name) => {
                let hint = s
                    .env
                    .as_deref()
                    .map(|e| format!(" (or the {e} environment variable)"))
                    .unwrap_or_default();
                if s.env.is_some() || s.default.is_some() {
                    problems.push(format!("`{name}` is required{hint}"));
                }
            }
            // Declared but not given: templates read it as empty.
            None => {
                values.insert(name.clone(), Value::Null);
            }
        }
    }
    for group in &defs.connector.require_any {
        let given_any = group.iter().any(|g| {
            values.get(g).is_some_and(|v| match v {
                Value::Array(a) => !a.is_empty(),
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                _ => true,
            })
        });
        if !given_any {
            let names: Vec<String> = group.iter().map(|g| format!("`{g}`")).collect();
            problems.push(format!("set {} (at least one)", names.join(" or ")));
        }
    }
    // Date-times are normalised to UTC, so bookmarks and parameters compare as instants.
    let dates: Vec<String> = values
        .keys()
        .filter(|k| {
            *k == "start_date"
                || defs
                    .settings
                    .get(*k)
                    .is_some_and(|s| s.format.as_deref() == Some("date-time"))
        })
        .cloned()
        .collect();
    for k in dates {
        if let Some(Value::String(text)) = values.get(&k) {
            match crate::time::normalise(text) {
                Ok(utc) => {
                    values.insert(k, Value::String(utc));
                }
                Err(e) => problems.push(format!("`{k}`: {e}")),
            }
        }
    }
    problems.dedup();
    if problems.is_empty() {
        Ok(Config { values, secrets })
    } else {
        Err(ConfigError(problems))
    }
}

/// A JSON pointer as a key path: `/repositories/0` → `repositories[0]`.
fn key_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

/// "`key`: unknown setting", with the closest known name when one is close.
fn unknown(key: &str, schema: &Value) -> String {
    let known = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str());
    match closest_name(key, known) {
        Some(k) => format!("`{key}`: unknown setting (did you mean `{k}`?)"),
        None => format!("`{key}`: unknown setting"),
    }
}

/// The known name closest to a mistyped `key`, when one is close enough to be meant.
pub fn closest_name<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (distance(key, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance between two short names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j]))
                .min(row[j] + 1)
                .min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A setting's value read from the environment: text, or a list split on commas.
fn env_value(kind: SettingType, text: &str) -> Value {
    match kind {
        SettingType::Array => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        SettingType::Integer | SettingType::Number | SettingType::Boolean => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        }
        _ => Value::String(text.to_owned()),
    }
}

impl Config {
    fn u64(&self, k: &str) -> Option<u64> {
        self.values.get(k).and_then(Value::as_u64)
    }

    /// The client settings.
    pub fn http_options(&self, defs: &Definitions) -> HttpOptions {
        let user_agent = match self.values.get("user_agent").and_then(Value::as_str) {
            Some(ua) => ua.to_owned(),
            None => default_user_agent(&defs.http.user_agent),
        };
        HttpOptions {
            user_agent,
            timeout: Duration::from_secs(self.u64("request_timeout_s").unwrap_or(30)),
            max_retries: u32::try_from(self.u64("max_retries").unwrap_or(5)).unwrap_or(u32::MAX),
            rate_limit_buffer: self.u64("rate_limit_buffer"),
            max_rate_limit_wait: Duration::from_secs(
                self.u64("max_rate_limit_wait_s").unwrap_or(3_600),
            ),
            backoff_base: Duration::from_millis(250),
            max_in_flight: self.max_concurrency(),
        }
    }

    /// The start date, normalised to UTC.
    pub fn start_date(&self) -> Option<String> {
        self.values
            .get("start_date")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Stream × partition jobs at once.
    pub fn max_concurrency(&self) -> usize {
        usize::try_from(self.u64("max_concurrency").unwrap_or(4)).unwrap_or(4)
    }

    /// The lookback windows.
    pub fn lookback(&self) -> Lookback {
        match self.values.get("lookback_s") {
            Some(Value::Object(map)) => Lookback {
                all: Duration::ZERO,
                streams: map
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), Duration::from_secs(v.as_u64()?))))
                    .collect(),
            },
            Some(v) => Lookback {
                all: Duration::from_secs(v.as_u64().unwrap_or(0)),
                streams: BTreeMap::new(),
            },
            None => Lookback::default(),
        }
    }
}

/// The definitions' User-Agent with `{version}` filled.
fn default_user_agent(t: &Template) -> String {
    let scope = crate::engine::request::Scope::default()
        .with("version", Value::from(env!("CARGO_PKG_VERSION")));
    t.render(&scope, Target::Text)
        .unwrap_or_else(|_| t.source().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFS: &str = r#"
[connector]
name = "shop"
require_any = [["shops", "regions"]]

[settings]
shops = { type = "array", pattern = "^[a-z]+$" }
regions = { type = "array" }
token = { type = "string", secret = true, env = "TAP_SHOP_TEST_TOKEN" }
api_url = { type = "string", default = "http://localhost" }
since = { type = "string", format = "date-time" }

[http]
base_url = "{api_url}"

[[stream]]
name = "orders"
path = "/orders"
primary_key = ["id"]
replication = { mode = "full_table" }
"#;

    fn defs() -> Definitions {
        Definitions::parse(DEFS, "shop.toml").expect("valid")
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let e = check(
            &defs(),
            &json!({"shops": ["UPPER"], "shopz": [], "max_concurrency": "4", "start_date": "yesterday"}),
        )
        .expect_err("invalid");
        let text = e.to_string();
        for needle in [
            "`shops[0]`",
            "`shopz`: unknown setting (did you mean `shops`?)",
            "max_concurrency",
            "start_date",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        assert!(e.0.len() >= 4, "{e:?}");
        let e = check(&defs(), &json!({})).expect_err("none of the group");
        assert!(e.to_string().contains("`shops` or `regions`"), "{e}");
    }

    #[test]
    fn defaults_environment_and_dates_resolve() {
        // SAFETY-free: the variable name is unique to this test.
        let c = check(
            &defs(),
            &json!({"shops": ["a"], "token": "s3cret", "start_date": "2024-01-01T01:00:00+01:00"}),
        )
        .expect("valid");
        assert_eq!(c.values["api_url"], "http://localhost");
        assert_eq!(c.values["max_concurrency"], 4);
        assert_eq!(c.start_date().as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(c.secrets, ["s3cret"]);
        assert!(!format!("{c:?}").contains("s3cret"));
        let lb = check(
            &defs(),
            &json!({"shops": ["a"], "lookback_s": {"orders": 60}}),
        )
        .expect("valid")
        .lookback();
        assert_eq!(lb.streams["orders"], Duration::from_secs(60));
    }

    #[test]
    fn the_schema_lists_connector_and_engine_settings() {
        let s = schema(&defs());
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["properties"]["token"]["writeOnly"], true);
        assert_eq!(s["properties"]["shops"]["items"]["pattern"], "^[a-z]+$");
        assert!(s["properties"]["max_concurrency"].is_object());
    }
}
