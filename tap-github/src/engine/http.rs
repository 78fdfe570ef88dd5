//! The HTTP client: one `reqwest` client shared by every stream, with retries (exponential
//! backoff and jitter on 5xx, timeouts, resets and truncated bodies), rate-limit handling
//! (`retry-after`, `x-ratelimit-reset` when nothing remains, a minute's back-off for limits that
//! say neither, a proactive pause below the buffer), fail-fast 401 and conditional requests.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::error::Error;
use super::metrics::Metrics;

/// Client settings.
#[derive(Clone)]
pub struct HttpOptions {
    /// API base URL, without trailing slash.
    pub base_url: String,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Token for the `Authorization` header, if any.
    pub token: Option<String>,
    /// Scheme written before the token.
    pub auth_scheme: String,
    /// Headers sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Timeout of one request, body included.
    pub timeout: Duration,
    /// Retries after the first attempt for transient failures.
    pub max_retries: u32,
    /// Pause when fewer requests than this remain; `None` means 5% of the reported limit.
    pub rate_limit_buffer: Option<u64>,
    /// Longest single wait for a rate limit; a longer one is an error.
    pub max_rate_limit_wait: Duration,
    /// First delay of the exponential backoff.
    pub backoff_base: Duration,
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("base_url", &self.base_url)
            .field("user_agent", &self.user_agent)
            .field("token", &self.token.as_ref().map(|_| "********"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

/// A response the caller has to look at: success, 304, or a status the client does not handle.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The whole body (empty for 204 and 304).
    pub body: Vec<u8>,
    /// The `rel="next"` URL of the `Link` header.
    pub next: Option<String>,
    /// The `ETag` header.
    pub etag: Option<String>,
}

/// The shared client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    opts: HttpOptions,
    paused_until: Mutex<Option<Instant>>,
    /// Request counts and durations.
    pub metrics: Metrics,
}

/// What one attempt produced.
enum Attempt {
    Done(Response),
    /// Transient: retry after a backoff.
    Transient(String),
    /// Rate limited: retry after this wait (not counted as a retry of a transient failure).
    Limited(Duration, String),
}

impl Client {
    /// Builds the client.
    pub fn new(opts: HttpOptions) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        for (k, v) in &opts.headers {
            headers.insert(header_name(k)?, header_value(k, v)?);
        }
        if let Some(token) = &opts.token {
            let mut v = header_value("Authorization", &format!("{} {token}", opts.auth_scheme))?;
            v.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        let http = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .default_headers(headers)
            .timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| Error::Setup(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            opts,
            paused_until: Mutex::new(None),
            metrics: Metrics::default(),
        })
    }

    /// The absolute URL of a path relative to the API base.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.opts.base_url)
    }

    /// GETs `url` (absolute), retrying transient failures and waiting out rate limits.
    /// `endpoint` tags the metrics. Returns 2xx, 304 and any other status the client does not
    /// handle itself; 401 and exhausted retries are errors.
    pub async fn get(
        &self,
        endpoint: &str,
        url: &str,
        headers: &BTreeMap<String, String>,
        if_none_match: Option<&str>,
    ) -> Result<Response, Error> {
        let mut transient = 0u32;
        let mut limited = 0u32;
        loop {
            self.wait_for_pause().await;
            let started = Instant::now();
            let attempt = self
                .attempt(url, headers, if_none_match, &mut limited)
                .await;
            let status = match &attempt {
                Ok(Attempt::Done(r)) => Some(r.status),
                _ => None,
            };
            self.metrics.request(endpoint, started.elapsed(), status);
            match attempt? {
                Attempt::Done(r) => return Ok(r),
                Attempt::Transient(why) => {
                    transient += 1;
                    if transient > self.opts.max_retries {
                        return Err(Error::Http(format!(
                            "{url}: {why} (gave up after {} retries)",
                            self.opts.max_retries
                        )));
                    }
                    let wait = backoff(self.opts.backoff_base, transient);
                    tracing::warn!(
                        "{why} on {url}; retry {transient}/{} in {:.2}s",
                        self.opts.max_retries,
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                }
                Attempt::Limited(wait, why) => {
                    if limited > self.opts.max_retries + 5 {
                        return Err(Error::Http(format!(
                            "{url}: {why}; still limited after {limited} waits"
                        )));
                    }
                    if wait > self.opts.max_rate_limit_wait {
                        return Err(Error::RateLimited(format!(
                            "{why}: the wait of {}s exceeds max_rate_limit_wait_s ({}s)",
                            wait.as_secs(),
                            self.opts.max_rate_limit_wait.as_secs()
                        )));
                    }
                    tracing::warn!("{why} on {url}; waiting {:.1}s", wait.as_secs_f64());
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        url: &str,
        headers: &BTreeMap<String, String>,
        if_none_match: Option<&str>,
        limited: &mut u32,
    ) -> Result<Attempt, Error> {
        let mut req = self.http.get(url);
        for (k, v) in headers {
            req = req.header(header_name(k)?, header_value(k, v)?);
        }
        if let Some(etag) = if_none_match {
            req = req.header(
                reqwest::header::IF_NONE_MATCH,
                header_value("If-None-Match", etag)?,
            );
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Transient(transport_error(&e))),
        };
        let status = resp.status().as_u16();
        let head = resp.headers().clone();
        // Read the whole body before judging: a truncated body is a transient failure.
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                return Ok(Attempt::Transient(format!(
                    "truncated body ({})",
                    transport_error(&e)
                )));
            }
        };
        self.note_rate_limit(&head);
        match status {
            401 => Err(Error::Unauthorized(format!(
                "{url} answered 401 {}",
                message(&body)
            ))),
            403 | 429 => {
                let remaining = header_u64(&head, "x-ratelimit-remaining");
                if let Some(secs) = header_u64(&head, "retry-after") {
                    *limited += 1;
                    return Ok(Attempt::Limited(
                        Duration::from_secs(secs),
                        format!("{status} with retry-after {secs}s"),
                    ));
                }
                if remaining == Some(0) {
                    *limited += 1;
                    let wait = until_reset(&head).unwrap_or(Duration::from_secs(60));
                    return Ok(Attempt::Limited(
                        wait,
                        format!("{status}: rate limit exhausted"),
                    ));
                }
                let text = message(&body).to_ascii_lowercase();
                if status == 429 || text.contains("rate limit") {
                    *limited += 1;
                    let wait = Duration::from_secs(60).saturating_mul(1 << (*limited - 1).min(4));
                    return Ok(Attempt::Limited(
                        wait,
                        format!("{status}: secondary rate limit without retry-after"),
                    ));
                }
                Ok(Attempt::Done(Response {
                    status,
                    body,
                    next: None,
                    etag: None,
                }))
            }
            500..=599 => Ok(Attempt::Transient(format!("{status} {}", message(&body)))),
            _ => Ok(Attempt::Done(Response {
                status,
                body,
                next: next_link(&head),
                etag: head
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            })),
        }
    }

    /// Pauses every request until the window resets when fewer than the buffer remain.
    fn note_rate_limit(&self, head: &HeaderMap) {
        let (Some(remaining), Some(limit)) = (
            header_u64(head, "x-ratelimit-remaining"),
            header_u64(head, "x-ratelimit-limit"),
        ) else {
            return;
        };
        let buffer = self
            .opts
            .rate_limit_buffer
            .unwrap_or_else(|| limit.div_ceil(20));
        if remaining >= buffer {
            return;
        }
        let wait = until_reset(head).unwrap_or(Duration::from_secs(60));
        if wait > self.opts.max_rate_limit_wait {
            tracing::warn!(
                "{remaining} of {limit} requests left (buffer {buffer}); the reset is {}s away, beyond max_rate_limit_wait_s: going on until the API refuses",
                wait.as_secs()
            );
            return;
        }
        tracing::warn!(
            "{remaining} of {limit} requests left (buffer {buffer}); pausing {:.1}s until the rate limit resets",
            wait.as_secs_f64()
        );
        let until = Instant::now() + wait;
        if let Ok(mut p) = self.paused_until.lock() {
            *p = Some(p.map_or(until, |old| old.max(until)));
        }
    }

    async fn wait_for_pause(&self) {
        let until = self.paused_until.lock().ok().and_then(|p| *p);
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
    }
}

fn header_name(k: &str) -> Result<HeaderName, Error> {
    HeaderName::from_bytes(k.as_bytes())
        .map_err(|_| Error::Setup(format!("invalid header name `{k}`")))
}

fn header_value(k: &str, v: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(v).map_err(|_| Error::Setup(format!("invalid value for header `{k}`")))
}

fn header_u64(head: &HeaderMap, name: &str) -> Option<u64> {
    head.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn until_reset(head: &HeaderMap) -> Option<Duration> {
    let reset = header_u64(head, "x-ratelimit-reset")?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    // One extra second: the reset instant is rounded down.
    Some(Duration::from_secs(reset.saturating_sub(now) + 1))
}

/// `message` of a JSON error body, or the start of the body.
fn message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body read failed"
    } else {
        "request failed"
    };
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// `url` with `params` appended as its query (no `?` when there are none).
pub fn with_query(url: &str, params: &BTreeMap<String, String>) -> Result<String, Error> {
    let mut u = reqwest::Url::parse(url).map_err(|e| Error::Setup(format!("{url}: {e}")))?;
    if !params.is_empty() {
        u.query_pairs_mut().extend_pairs(params);
    }
    Ok(u.to_string())
}

/// `rel="next"` of a `Link` header.
pub fn next_link(head: &HeaderMap) -> Option<String> {
    head.get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let mut pieces = part.split(';');
            let url = pieces.next()?.trim().strip_prefix('<')?.strip_suffix('>')?;
            pieces
                .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
                .then(|| url.to_owned())
        })
}

/// Exponential backoff with full jitter in [d/2, d): `base · 2^(attempt−1)`, at most 30 s.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let d = base
        .saturating_mul(1 << (attempt - 1).min(10))
        .min(Duration::from_secs(30));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    let frac = f64::from(nanos % 1000) / 1000.0;
    d.mul_f64(0.5 + frac / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_finds_rel_next_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            HeaderValue::from_static("<http://x/a?page=1>; rel=\"prev\", <http://x/a?page=3&q=1>; rel=\"next\", <http://x/a?page=9>; rel=\"last\""),
        );
        assert_eq!(next_link(&h).as_deref(), Some("http://x/a?page=3&q=1"));
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Duration::from_millis(100);
        assert!(
            backoff(b, 1) >= Duration::from_millis(50)
                && backoff(b, 1) < Duration::from_millis(100)
        );
        assert!(backoff(b, 4) >= Duration::from_millis(400));
        assert!(backoff(b, 30) <= Duration::from_secs(30));
    }

    #[test]
    fn debug_masks_the_token() {
        let o = HttpOptions {
            base_url: "http://x".into(),
            user_agent: "ua".into(),
            token: Some("s3cret".into()),
            auth_scheme: "Bearer".into(),
            headers: BTreeMap::new(),
            timeout: Duration::from_secs(1),
            max_retries: 1,
            rate_limit_buffer: None,
            max_rate_limit_wait: Duration::from_secs(1),
            backoff_base: Duration::from_millis(1),
        };
        assert!(!format!("{o:?}").contains("s3cret"));
    }
}
