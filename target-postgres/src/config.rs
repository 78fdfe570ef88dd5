//! The target's configuration file: serde data with defaults, its generated JSON Schema, and
//! the connection settings it gives.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use target_core::{OnInvalidRecord, Settings};

/// Configuration of `target-postgres`, read from the JSON file given with `--config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Config {
    /// Connection string: a URL (`postgres://user:password@host:5432/dbname`, a Unix socket
    /// folder as `host=/path` in the query) or `key=value` pairs (`host=… user=… dbname=…`).
    /// The discrete settings below override its parts.
    #[serde(default)]
    pub url: Option<String>,
    /// Server host name, or the folder of its Unix socket.
    #[serde(default)]
    pub host: Option<String>,
    /// Server port.
    #[serde(default)]
    pub port: Option<u16>,
    /// User name.
    #[serde(default)]
    pub user: Option<String>,
    /// Password.
    #[serde(default)]
    pub password: Option<String>,
    /// Database name.
    #[serde(default)]
    pub database: Option<String>,
    /// Schema that receives the tables; created when missing.
    #[serde(default = "default_schema")]
    pub schema: String,
    /// The settings every target shares.
    #[serde(flatten)]
    pub settings: Settings,
}

fn default_schema() -> String {
    "public".to_string()
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
        let config = target_core::settings::parse_config(text, |c: &Self| &c.settings)?;
        anyhow::ensure!(
            config.url.is_some() || config.host.is_some(),
            "give `url` or `host`"
        );
        anyhow::ensure!(!config.schema.is_empty(), "`schema` must not be empty");
        Ok(config)
    }

    /// The config's JSON Schema, as checked in at `schemas/target-postgres.config.json`.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
    }

    /// The connection settings: the URL's, overridden by the discrete settings.
    pub fn connection(&self) -> anyhow::Result<postgres::Config> {
        let mut pg = match &self.url {
            Some(url) => url
                .parse::<postgres::Config>()
                .map_err(|e| anyhow::anyhow!("`url` is not a connection string: {e}"))?,
            None => postgres::Config::new(),
        };
        if let Some(host) = &self.host {
            pg.host(host);
        }
        if let Some(port) = self.port {
            pg.port(port);
        }
        if let Some(user) = &self.user {
            pg.user(user);
        }
        if let Some(password) = &self.password {
            pg.password(password);
        }
        if let Some(database) = &self.database {
            pg.dbname(database);
        }
        pg.application_name("target-postgres");
        Ok(pg)
    }

    /// Secrets to mask in every message: the password, as given and as written in the URL.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.password.iter().cloned().collect();
        if let Some(url) = &self.url
            && let Ok(pg) = url.parse::<postgres::Config>()
            && let Some(p) = pg.get_password()
        {
            out.push(String::from_utf8_lossy(p).into_owned());
        }
        out.retain(|s| !s.is_empty());
        out
    }
}

/// Masks the password of every `scheme://user:password@` in `text`, and each of `secrets`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    for secret in secrets {
        out = out.replace(secret.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_documented_example() {
        let c = Config::parse(r#"{"url": "postgres://u:p@db.example.invalid/warehouse"}"#)
            .expect("valid");
        assert_eq!(c.schema, "public");
        assert_eq!(c.settings, Settings::default());
        let text = r#"{"host": "/run/postgresql", "port": 5432, "user": "loader",
            "password": "s3cret", "database": "warehouse", "schema": "github",
            "batch_size_rows": 50000, "flatten_max_depth": 2, "add_record_metadata": true,
            "validate_records": true, "on_invalid_record": "reject", "hard_delete": false}"#;
        let c = Config::parse(text).expect("valid");
        assert_eq!(c.settings.on_invalid_record, OnInvalidRecord::Reject);
        let pg = c.connection().expect("connection");
        assert_eq!(pg.get_dbname(), Some("warehouse"));
        assert_eq!(c.secrets(), ["s3cret"]);
    }

    #[test]
    fn errors_name_the_key() {
        let err = Config::parse(r#"{"url": "postgres://x/y", "shema": "a"}"#).expect_err("unknown");
        assert!(err.to_string().contains("unknown field `shema`"), "{err}");
        let err = Config::parse(r#"{"schema": "a"}"#).expect_err("no server");
        assert_eq!(err.to_string(), "give `url` or `host`");
    }

    #[test]
    fn passwords_are_masked() {
        let secrets = Config::parse(r#"{"url": "postgres://ann:pa%40ss@h:5/db"}"#)
            .expect("valid")
            .secrets();
        assert_eq!(secrets, ["pa@ss"]);
        assert_eq!(
            mask(
                "cannot connect to postgres://ann:pa%40ss@h:5/db (pa@ss)",
                &secrets
            ),
            "cannot connect to postgres://ann:***@h:5/db (***)"
        );
        assert_eq!(mask("postgres://ann@h/db", &[]), "postgres://ann@h/db");
    }
}
