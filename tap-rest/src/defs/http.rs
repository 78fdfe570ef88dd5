//! What every request shares: the base URL (a template over the settings), default headers, the
//! User-Agent, conditional requests, and how the API says "slow down".

use std::collections::BTreeMap;

use serde::Deserialize;

use super::template::Template;

/// Request settings shared by every stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpDef {
    /// The API base, e.g. `{api_url}`; paths are appended to it.
    pub base_url: Template,
    /// Headers sent with every request.
    #[serde(default)]
    pub headers: BTreeMap<String, Template>,
    /// Default `User-Agent` (`{version}` is the program's version); the `user_agent` setting wins.
    #[serde(default = "default_user_agent")]
    pub user_agent: Template,
    /// Send `If-None-Match` with the ETag a partition kept (streams can turn it off).
    #[serde(default = "yes")]
    pub conditional: bool,
}

fn default_user_agent() -> Template {
    // A literal without braces always parses.
    Template::parse("tapline-tap-rest/{version}").unwrap_or_else(|_| unreachable!("valid"))
}

fn yes() -> bool {
    true
}

/// How the API reports and enforces its rate limit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitDef {
    /// Header with the requests left in the window.
    #[serde(default)]
    pub remaining_header: Option<String>,
    /// Header with the window's size.
    #[serde(default)]
    pub limit_header: Option<String>,
    /// Header telling when the window resets.
    #[serde(default)]
    pub reset_header: Option<String>,
    /// How the reset header writes the instant.
    #[serde(default)]
    pub reset_format: ResetFormat,
    /// Header asking to wait (seconds or an HTTP date).
    #[serde(default = "retry_after")]
    pub retry_after_header: Option<String>,
    /// Statuses that can mean "rate limited": with nothing remaining the client waits for the
    /// reset, with a retry-after header it waits that long.
    #[serde(default = "limited_statuses")]
    pub statuses: Vec<u16>,
    /// Answers that mean "slow down" even without those headers: a status, and optionally text
    /// its body must contain (case-insensitive). The client backs off from a minute.
    #[serde(default = "slow_down")]
    pub slow_down: Vec<SlowDown>,
}

impl Default for RateLimitDef {
    fn default() -> Self {
        RateLimitDef {
            remaining_header: None,
            limit_header: None,
            reset_header: None,
            reset_format: ResetFormat::default(),
            retry_after_header: retry_after(),
            statuses: limited_statuses(),
            slow_down: slow_down(),
        }
    }
}

/// A "slow down" answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowDown {
    /// HTTP status.
    pub status: u16,
    /// Text the body must contain.
    #[serde(default)]
    pub body: Option<String>,
}

/// How a reset header writes its instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetFormat {
    /// Seconds since the epoch.
    #[default]
    EpochSeconds,
    /// Milliseconds since the epoch.
    EpochMillis,
    /// Seconds from now.
    Seconds,
    /// An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`).
    HttpDate,
}

fn retry_after() -> Option<String> {
    Some("retry-after".to_owned())
}

fn limited_statuses() -> Vec<u16> {
    vec![429]
}

fn slow_down() -> Vec<SlowDown> {
    vec![SlowDown {
        status: 429,
        body: None,
    }]
}
