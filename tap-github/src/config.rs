//! The tap's configuration file: serde data with defaults and its generated JSON Schema, then
//! its resolution into the engine's options.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::bookmarks::normalise_date;
use crate::engine::{HttpOptions, Lookback};

/// Configuration of `tap-github`, read from the JSON file given with `--config`.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Repositories to extract, as `owner/name`.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// Organizations whose every repository is extracted (listed with `/orgs/{org}/repos`).
    #[serde(default)]
    pub organizations: Vec<String>,
    /// RFC 3339 date-time: lower bound of incremental streams on a first run.
    #[serde(default)]
    pub start_date: Option<String>,
    /// Token sent as `Authorization: Bearer`; falls back to the GITHUB_TOKEN environment
    /// variable; an empty string means none. Never logged.
    #[serde(default)]
    pub auth_token: Option<String>,
    /// API base URL (GitHub Enterprise: `https://HOST/api/v3`).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// `User-Agent` header (GitHub refuses requests without one).
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Repository × stream partitions extracted at the same time.
    #[serde(default = "default_max_concurrency")]
    #[schemars(range(min = 1, max = 64))]
    pub max_concurrency: usize,
    /// Timeout of one request, body included, in seconds.
    #[serde(default = "default_request_timeout_s")]
    #[schemars(range(min = 1))]
    pub request_timeout_s: u64,
    /// Retries of a request after 5xx, timeouts, resets and truncated bodies.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Pause until the rate limit resets when fewer requests remain; default 5% of the limit
    /// GitHub reports.
    #[serde(default)]
    pub rate_limit_buffer: Option<u64>,
    /// Longest single wait for a rate limit, in seconds; a longer one fails the run.
    #[serde(default = "default_max_rate_limit_wait_s")]
    pub max_rate_limit_wait_s: u64,
    /// How far before the bookmark an incremental request starts, in seconds: one number for
    /// every stream (raising the definitions' own lookback), or an object of stream name →
    /// seconds (replacing it for those streams).
    #[serde(default)]
    pub lookback_s: LookbackSetting,
}

/// The `lookback_s` setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum LookbackSetting {
    /// Seconds for every stream.
    All(u64),
    /// Seconds per stream name.
    PerStream(BTreeMap<String, u64>),
}

impl Default for LookbackSetting {
    fn default() -> Self {
        LookbackSetting::All(0)
    }
}

fn default_api_url() -> String {
    "https://api.github.com".to_owned()
}

fn default_user_agent() -> String {
    concat!("tapline-tap-github/", env!("CARGO_PKG_VERSION")).to_owned()
}

fn default_max_concurrency() -> usize {
    4
}

fn default_request_timeout_s() -> u64 {
    30
}

fn default_max_retries() -> u32 {
    5
}

fn default_max_rate_limit_wait_s() -> u64 {
    3_600
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("repositories", &self.repositories)
            .field("organizations", &self.organizations)
            .field("start_date", &self.start_date)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "********"))
            .field("api_url", &self.api_url)
            .field("user_agent", &self.user_agent)
            .field("max_concurrency", &self.max_concurrency)
            .field("request_timeout_s", &self.request_timeout_s)
            .field("max_retries", &self.max_retries)
            .field("rate_limit_buffer", &self.rate_limit_buffer)
            .field("max_rate_limit_wait_s", &self.max_rate_limit_wait_s)
            .field("lookback_s", &self.lookback_s)
            .finish()
    }
}

impl Config {
    /// Reads and checks a config file; errors name the file and the key at fault.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Parses config JSON text: unknown keys and bad values are errors naming the key.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            if path == "." {
                anyhow::anyhow!("{inner}")
            } else {
                anyhow::anyhow!("`{path}`: {inner}")
            }
        })?;
        anyhow::ensure!(
            !config.repositories.is_empty() || !config.organizations.is_empty(),
            "set `repositories` or `organizations` (at least one)"
        );
        for r in &config.repositories {
            let ok = r
                .split_once('/')
                .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'));
            anyhow::ensure!(ok, "`repositories`: `{r}` is not `owner/name`");
        }
        for o in &config.organizations {
            anyhow::ensure!(
                !o.is_empty() && !o.contains('/'),
                "`organizations`: `{o}` is not an organization login"
            );
        }
        if let Some(d) = &config.start_date {
            config.start_date =
                Some(normalise_date(d).map_err(|e| anyhow::anyhow!("`start_date`: {e}"))?);
        }
        anyhow::ensure!(
            (1..=64).contains(&config.max_concurrency),
            "`max_concurrency`: must be between 1 and 64"
        );
        anyhow::ensure!(
            config.request_timeout_s >= 1,
            "`request_timeout_s`: must be at least 1"
        );
        anyhow::ensure!(
            config.api_url.starts_with("http://") || config.api_url.starts_with("https://"),
            "`api_url`: `{}` is not an http(s) URL",
            config.api_url
        );
        config.api_url = config.api_url.trim_end_matches('/').to_owned();
        Ok(config)
    }

    /// The config's JSON Schema, as checked in at `schemas/tap-github.config.json`.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
    }

    /// The token: `auth_token`, else env `GITHUB_TOKEN`; empty means none.
    pub fn token(&self) -> Option<String> {
        self.auth_token
            .clone()
            .or_else(|| std::env::var("GITHUB_TOKEN").ok())
            .filter(|t| !t.is_empty())
    }

    /// HTTP options for the engine, with the definitions' shared headers.
    pub fn http_options(
        &self,
        auth_scheme: &str,
        headers: &BTreeMap<String, String>,
    ) -> HttpOptions {
        HttpOptions {
            base_url: self.api_url.clone(),
            user_agent: self.user_agent.clone(),
            token: self.token(),
            auth_scheme: auth_scheme.to_owned(),
            headers: headers.clone(),
            timeout: Duration::from_secs(self.request_timeout_s),
            max_retries: self.max_retries,
            rate_limit_buffer: self.rate_limit_buffer,
            max_rate_limit_wait: Duration::from_secs(self.max_rate_limit_wait_s),
            backoff_base: Duration::from_millis(250),
        }
    }

    /// The lookback windows for the engine.
    pub fn lookback(&self) -> Lookback {
        match &self.lookback_s {
            LookbackSetting::All(secs) => Lookback {
                all: Duration::from_secs(*secs),
                streams: BTreeMap::new(),
            },
            LookbackSetting::PerStream(map) => Lookback {
                all: Duration::ZERO,
                streams: map
                    .iter()
                    .map(|(k, v)| (k.clone(), Duration::from_secs(*v)))
                    .collect(),
            },
        }
    }

    /// The list settings the partition sources read.
    pub fn settings(&self) -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([
            ("repositories".to_owned(), self.repositories.clone()),
            ("organizations".to_owned(), self.organizations.clone()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::parse(r#"{"repositories": ["octo/app"]}"#).expect("valid");
        assert_eq!((c.max_concurrency, c.max_retries), (4, 5));
        assert_eq!(c.lookback_s, LookbackSetting::All(0));
        assert_eq!(c.api_url, "https://api.github.com");
        assert_eq!(c.rate_limit_buffer, None);
    }

    #[test]
    fn documented_example_parses() {
        let text = r#"{"repositories": ["octo/app"], "organizations": ["octo"], "start_date": "2024-01-01T00:00:00+01:00",
            "auth_token": "t", "api_url": "http://127.0.0.1:8080/", "user_agent": "me", "max_concurrency": 8,
            "request_timeout_s": 10, "max_retries": 3, "rate_limit_buffer": 100, "max_rate_limit_wait_s": 600, "lookback_s": 3600}"#;
        let c = Config::parse(text).expect("valid");
        assert_eq!(c.start_date.as_deref(), Some("2023-12-31T23:00:00Z"));
        assert_eq!(c.api_url, "http://127.0.0.1:8080");
        assert_eq!(c.lookback().all, Duration::from_secs(3600));
        let c = Config::parse(r#"{"repositories": ["a/b"], "lookback_s": {"commits": 86400}}"#)
            .expect("per stream");
        assert_eq!(
            c.lookback().streams.get("commits"),
            Some(&Duration::from_secs(86400))
        );
    }

    #[test]
    fn errors_name_the_key() {
        let e = Config::parse(r#"{"repositories": ["a/b"], "repos": []}"#)
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("unknown field `repos`"), "{e}");
        let e = Config::parse(r#"{"repositories": ["a/b"], "max_concurrency": "x"}"#)
            .expect_err("bad")
            .to_string();
        assert!(e.starts_with("`max_concurrency`"), "{e}");
        let e = Config::parse(r#"{"repositories": ["nope"]}"#)
            .expect_err("bad")
            .to_string();
        assert!(e.contains("`repositories`") && e.contains("nope"), "{e}");
        let e = Config::parse(r#"{"repositories": ["a/b"], "start_date": "yesterday"}"#)
            .expect_err("bad")
            .to_string();
        assert!(e.starts_with("`start_date`"), "{e}");
        assert!(Config::parse("{}").is_err());
    }

    #[test]
    fn token_is_masked_in_debug() {
        let c =
            Config::parse(r#"{"repositories": ["a/b"], "auth_token": "s3cret"}"#).expect("valid");
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
