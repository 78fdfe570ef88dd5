//! The HTTP client: one `reqwest` client shared by every stream. It adds the declared
//! authentication, retries transient failures (5xx, timeouts, resets, truncated bodies, and the
//! statuses a stream maps to `retry`) with exponential backoff and jitter, waits out rate limits
//! as the definitions describe them (retry-after, a reset header when nothing remains, a
//! back-off for "slow down" answers, a proactive pause below the buffer), and fails fast on 401.
//! Credentials never appear in a URL it prints: a query-parameter key is added at send time.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::budget::Budget;
use super::error::Error;
use super::metrics::Metrics;
use super::request::{Request, Scope, parse_url};
use crate::defs::auth::{AuthDef, Grant};
use crate::defs::http::{RateLimitDef, ResetFormat};
use crate::defs::stream::Method;
use crate::defs::template::Target;
use crate::defs::{Definitions, Template};

/// Client settings from the engine's own settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// `User-Agent` header.
    pub user_agent: String,
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
    /// Requests in flight at once, whatever their stream, partition, parent or page: the
    /// most the adaptive budget allows.
    pub max_in_flight: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            user_agent: concat!("tapline-tap-rest/", env!("CARGO_PKG_VERSION")).to_owned(),
            timeout: Duration::from_secs(30),
            max_retries: 5,
            rate_limit_buffer: None,
            max_rate_limit_wait: Duration::from_secs(3_600),
            backoff_base: Duration::from_millis(250),
            max_in_flight: 4,
        }
    }
}

/// A response the caller has to look at: success, 304, or a status the client does not handle.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body (empty for 204 and 304).
    pub body: Vec<u8>,
    /// The `rel="next"` URL of the `Link` header.
    pub next: Option<String>,
    /// The `ETag` header.
    pub etag: Option<String>,
}

/// Credentials, resolved from the settings.
enum Auth {
    None,
    Header(HeaderName, HeaderValue),
    Query(String, String),
    Basic(String, String),
    OAuth2(OAuth),
}

struct OAuth {
    token_url: String,
    form: Vec<(String, String)>,
    margin: Duration,
    token: tokio::sync::Mutex<Option<(HeaderValue, Instant)>>,
    /// The refresh token a token response handed over in place of the configured one.
    rotated: Mutex<Option<String>>,
}

/// The shared client.
pub struct Client {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    rate: RateLimitDef,
    opts: HttpOptions,
    secrets: Vec<String>,
    /// Secrets met while running (OAuth access tokens), masked like `secrets`.
    learned: Mutex<Vec<String>>,
    paused_until: Mutex<Option<Instant>>,
    /// Requests in flight.
    budget: Budget,
    /// Request counts and durations.
    pub metrics: Metrics,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// What one attempt produced.
enum Attempt {
    Done(Response),
    /// Transient: retry after a backoff.
    Transient(String),
    /// Rate limited: retry after this wait (not counted as a retry of a transient failure);
    /// `secondary` when requests remain (the API asks to slow down).
    Limited {
        wait: Duration,
        why: String,
        secondary: bool,
    },
    /// The OAuth token was refused: fetch a new one and try again once.
    Reauthenticate,
}

impl Client {
    /// Builds the client for `defs`, filling its templates from `scope` (the settings);
    /// `secrets`, every credential the authentication renders and every access token it
    /// obtains are masked in every message it makes.
    pub fn new(
        defs: &Definitions,
        scope: &Scope,
        opts: HttpOptions,
        mut secrets: Vec<String>,
    ) -> Result<Self, Error> {
        let fill = |t: &Template, what: &str| scope.fill(t, Target::Text, what);
        let base = fill(&defs.http.base_url, "http.base_url")?
            .trim_end_matches('/')
            .to_owned();
        parse_url(&base)?;
        let mut headers = HeaderMap::new();
        for (k, v) in &defs.http.headers {
            headers.insert(
                header_name(k)?,
                header_value(k, &fill(v, &format!("http.headers.{k}"))?)?,
            );
        }
        let auth = match &defs.auth {
            AuthDef::None => Auth::None,
            AuthDef::Bearer { token, scheme } => {
                let token = fill(token, "auth.token")?;
                if token.is_empty() {
                    Auth::None
                } else {
                    let mut v = header_value("Authorization", &format!("{scheme} {token}"))?;
                    v.set_sensitive(true);
                    Auth::Header(reqwest::header::AUTHORIZATION, v)
                }
            }
            AuthDef::Header { name, value } => {
                let value = fill(value, "auth.value")?;
                if value.is_empty() {
                    Auth::None
                } else {
                    let mut v = header_value(name, &value)?;
                    v.set_sensitive(true);
                    Auth::Header(header_name(name)?, v)
                }
            }
            AuthDef::Query { name, value } => {
                let value = fill(value, "auth.value")?;
                if value.is_empty() {
                    Auth::None
                } else {
                    Auth::Query(name.clone(), value)
                }
            }
            AuthDef::Basic { username, password } => Auth::Basic(
                fill(username, "auth.username")?,
                fill(password, "auth.password")?,
            ),
            AuthDef::Oauth2 {
                token_url,
                grant,
                client_id,
                client_secret,
                refresh_token,
                scopes,
                refresh_margin_s,
            } => {
                let mut form = vec![
                    (
                        "grant_type".to_owned(),
                        match grant {
                            Grant::ClientCredentials => "client_credentials",
                            Grant::RefreshToken => "refresh_token",
                        }
                        .to_owned(),
                    ),
                    ("client_id".to_owned(), fill(client_id, "auth.client_id")?),
                    (
                        "client_secret".to_owned(),
                        fill(client_secret, "auth.client_secret")?,
                    ),
                ];
                if let Some(t) = refresh_token {
                    form.push(("refresh_token".to_owned(), fill(t, "auth.refresh_token")?));
                }
                if !scopes.is_empty() {
                    form.push(("scope".to_owned(), scopes.join(" ")));
                }
                Auth::OAuth2(OAuth {
                    token_url: fill(token_url, "auth.token_url")?,
                    form,
                    margin: Duration::from_secs(*refresh_margin_s),
                    token: tokio::sync::Mutex::new(None),
                    rotated: Mutex::new(None),
                })
            }
        };
        // Credentials are secret whether or not their settings say so.
        secrets.extend(match &auth {
            Auth::None => vec![],
            Auth::Header(_, v) => vec![String::from_utf8_lossy(v.as_bytes()).into_owned()],
            Auth::Query(_, v) => vec![v.clone()],
            Auth::Basic(_, p) => vec![p.clone()],
            Auth::OAuth2(o) => o
                .form
                .iter()
                .filter(|(k, _)| k == "client_secret" || k == "refresh_token")
                .map(|(_, v)| v.clone())
                .collect(),
        });
        if let AuthDef::Bearer { token, .. } = &defs.auth {
            secrets.push(fill(token, "auth.token")?);
        }
        let in_flight = opts.max_in_flight;
        let http = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .default_headers(headers)
            .timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| Error::Setup(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            auth,
            rate: defs.rate_limit.clone(),
            opts,
            secrets: secrets.into_iter().filter(|s| s.len() >= 4).collect(),
            learned: Mutex::new(Vec::new()),
            paused_until: Mutex::new(None),
            budget: Budget::new(in_flight),
            metrics: Metrics::default(),
        })
    }

    /// The absolute URL of a path relative to the API base.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The API base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The most requests in flight at once (the budget may allow fewer for a while).
    pub fn max_in_flight(&self) -> usize {
        self.budget.max()
    }

    /// `text` with every secret replaced by `********`.
    pub fn mask(&self, text: &str) -> String {
        let learned = self.learned.lock().map(|l| l.clone()).unwrap_or_default();
        self.secrets
            .iter()
            .chain(&learned)
            .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "********"))
    }

    /// `req` without the query parameter that carries the API key, when an API echoed it in
    /// a next-page URL: a request's URL carries no credentials (they are added when it is
    /// sent), so the URLs the engine prints and stores never hold one.
    pub fn without_credentials(&self, req: Request) -> Request {
        let Auth::Query(name, _) = &self.auth else {
            return req;
        };
        let Ok(mut u) = reqwest::Url::parse(&req.url) else {
            return req;
        };
        if !u.query_pairs().any(|(k, _)| k == name.as_str()) {
            return req;
        }
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != name.as_str())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
        Request {
            url: u.to_string(),
            ..req
        }
    }

    /// Sends `req`, retrying transient failures (and `retry_statuses`) and waiting out rate
    /// limits. `endpoint` tags the metrics. Returns 2xx, 304 and any other status the client
    /// does not handle itself; 401 and exhausted retries are errors.
    pub async fn send(
        &self,
        endpoint: &str,
        req: &Request,
        if_none_match: Option<&str>,
        retry_statuses: &[u16],
    ) -> Result<Response, Error> {
        let mut transient = 0u32;
        let mut limited = 0u32;
        let mut reauthenticated = false;
        loop {
            self.wait_for_pause().await;
            let slot = self.budget.acquire().await;
            let started = Instant::now();
            let attempt = self
                .attempt(
                    req,
                    if_none_match,
                    retry_statuses,
                    &mut limited,
                    reauthenticated,
                )
                .await;
            drop(slot);
            let status = match &attempt {
                Ok(Attempt::Done(r)) => Some(r.status),
                _ => None,
            };
            if status.is_some_and(|s| s < 400) {
                self.budget.success();
            }
            self.metrics
                .request(endpoint, &req.url, started.elapsed(), status);
            match attempt? {
                Attempt::Done(r) => return Ok(r),
                Attempt::Reauthenticate => {
                    reauthenticated = true;
                    if let Auth::OAuth2(o) = &self.auth {
                        *o.token.lock().await = None;
                    }
                }
                Attempt::Transient(why) => {
                    transient += 1;
                    if transient > self.opts.max_retries {
                        return Err(Error::Http(format!(
                            "{}: {why} (gave up after {} retries)",
                            req.url, self.opts.max_retries
                        )));
                    }
                    let wait = backoff(self.opts.backoff_base, transient);
                    tracing::warn!(
                        "{why} on {}; retry {transient}/{} in {:.2}s",
                        req.url,
                        self.opts.max_retries,
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                }
                Attempt::Limited {
                    wait,
                    why,
                    secondary,
                } => {
                    if secondary && let Some((before, after)) = self.budget.cut(started) {
                        tracing::warn!(
                            "secondary rate limit: requests in flight {before} → {after}"
                        );
                    }
                    if limited > self.opts.max_retries + 5 {
                        return Err(Error::Http(format!(
                            "{}: {why}; still limited after {limited} waits",
                            req.url
                        )));
                    }
                    if wait > self.opts.max_rate_limit_wait {
                        return Err(Error::RateLimited(format!(
                            "{why}: the wait of {}s exceeds max_rate_limit_wait_s ({}s)",
                            wait.as_secs(),
                            self.opts.max_rate_limit_wait.as_secs()
                        )));
                    }
                    tracing::warn!("{why} on {}; waiting {:.1}s", req.url, wait.as_secs_f64());
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &Request,
        if_none_match: Option<&str>,
        retry_statuses: &[u16],
        limited: &mut u32,
        reauthenticated: bool,
    ) -> Result<Attempt, Error> {
        let mut url = parse_url(&req.url)?;
        if let Auth::Query(name, value) = &self.auth {
            // A copy of the parameter in the URL is replaced: the key is never sent twice.
            if url.query_pairs().any(|(k, _)| k == name.as_str()) {
                url = parse_url(&self.without_credentials(req.clone()).url)?;
            }
            url.query_pairs_mut().append_pair(name, value);
        }
        let mut r = match req.method {
            Method::GET => self.http.get(url),
            Method::POST => self.http.post(url),
        };
        for (k, v) in &req.headers {
            r = r.header(header_name(k)?, header_value(k, v)?);
        }
        if let Some(body) = &req.body {
            r = r.json(body);
        }
        if let Some(etag) = if_none_match {
            r = r.header(
                reqwest::header::IF_NONE_MATCH,
                header_value("If-None-Match", etag)?,
            );
        }
        r = match &self.auth {
            Auth::None => r,
            Auth::Header(name, value) => r.header(name.clone(), value.clone()),
            Auth::Query(..) => r,
            Auth::Basic(user, pass) => r.basic_auth(user, Some(pass)),
            Auth::OAuth2(o) => {
                r.header(reqwest::header::AUTHORIZATION, self.access_token(o).await?)
            }
        };
        let resp = match r.send().await {
            Ok(resp) => resp,
            Err(e) => return Ok(Attempt::Transient(transport_error(e))),
        };
        let status = resp.status().as_u16();
        let head = resp.headers().clone();
        // Read the whole body before judging: a truncated body is a transient failure.
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                return Ok(Attempt::Transient(format!(
                    "truncated body ({})",
                    transport_error(e)
                )));
            }
        };
        self.note_rate_limit(&head);
        if status == 401 {
            if matches!(self.auth, Auth::OAuth2(_)) && !reauthenticated {
                return Ok(Attempt::Reauthenticate);
            }
            return Err(Error::Unauthorized(self.mask(&format!(
                "{} answered 401 {}",
                req.url,
                message(&body)
            ))));
        }
        if let Some(wait) = self.limit(status, &head, &body, limited) {
            return Ok(wait);
        }
        if (500..=599).contains(&status) || retry_statuses.contains(&status) {
            return Ok(Attempt::Transient(
                self.mask(&format!("{status} {}", message(&body))),
            ));
        }
        Ok(Attempt::Done(Response {
            status,
            next: next_link(&head),
            etag: head
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            headers: head,
            body,
        }))
    }

    /// Whether an answer says "rate limited", and how long to wait.
    fn limit(
        &self,
        status: u16,
        head: &HeaderMap,
        body: &[u8],
        limited: &mut u32,
    ) -> Option<Attempt> {
        let candidate = self.rate.statuses.contains(&status)
            || self.rate.slow_down.iter().any(|s| s.status == status);
        if !candidate {
            return None;
        }
        let remaining = self
            .rate
            .remaining_header
            .as_deref()
            .and_then(|h| header_u64(head, h));
        if let Some(wait) = self
            .rate
            .retry_after_header
            .as_deref()
            .and_then(|h| retry_after(head, h))
        {
            *limited += 1;
            return Some(Attempt::Limited {
                wait,
                why: format!("{status} with retry-after {}s", wait.as_secs()),
                secondary: remaining != Some(0),
            });
        }
        if remaining == Some(0) && self.rate.statuses.contains(&status) {
            *limited += 1;
            let wait = self.until_reset(head).unwrap_or(Duration::from_secs(60));
            return Some(Attempt::Limited {
                wait,
                why: format!("{status}: rate limit exhausted"),
                secondary: false,
            });
        }
        let text = String::from_utf8_lossy(body).to_lowercase();
        let slow = self.rate.slow_down.iter().any(|s| {
            s.status == status
                && s.body
                    .as_deref()
                    .is_none_or(|b| text.contains(&b.to_lowercase()))
        });
        if slow {
            *limited += 1;
            let wait = Duration::from_secs(60).saturating_mul(1 << (*limited - 1).min(4));
            return Some(Attempt::Limited {
                wait,
                why: format!("{status}: rate limited without a retry-after"),
                secondary: true,
            });
        }
        None
    }

    /// An OAuth access token, fetched again when it is about to expire.
    async fn access_token(&self, o: &OAuth) -> Result<HeaderValue, Error> {
        let mut slot = o.token.lock().await;
        if let Some((token, until)) = slot.as_ref()
            && Instant::now() + o.margin < *until
        {
            return Ok(token.clone());
        }
        let rotated = o.rotated.lock().ok().and_then(|r| r.clone());
        let form: Vec<(String, String)> = o
            .form
            .iter()
            .map(|(k, v)| match (k.as_str(), &rotated) {
                ("refresh_token", Some(r)) => (k.clone(), r.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        let resp = self
            .http
            .post(&o.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| Error::Unauthorized(format!("token request: {}", transport_error(e))))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.unwrap_or_default();
        if status != 200 {
            return Err(Error::Unauthorized(self.mask(&format!(
                "the token endpoint answered {status} {}",
                message(&body)
            ))));
        }
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Error::Unauthorized(format!("token response: {e}")))?;
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| Error::Unauthorized("token response without access_token".into()))?;
        // A number, or a number written as text.
        let expires = v["expires_in"]
            .as_u64()
            .or_else(|| v["expires_in"].as_str().and_then(|s| s.trim().parse().ok()))
            .unwrap_or(3_600);
        // A refresh token may be rotated: the next refresh must use the new one.
        let next_refresh = v["refresh_token"].as_str().filter(|r| !r.is_empty());
        if let Ok(mut learned) = self.learned.lock() {
            learned.extend(
                std::iter::once(token)
                    .chain(next_refresh)
                    .filter(|t| t.len() >= 4)
                    .map(str::to_owned),
            );
        }
        if let (Some(r), Ok(mut slot)) = (next_refresh, o.rotated.lock())
            && o.form.iter().any(|(k, _)| k == "refresh_token")
        {
            *slot = Some(r.to_owned());
        }
        let mut value = header_value("Authorization", &format!("Bearer {token}"))?;
        value.set_sensitive(true);
        *slot = Some((value.clone(), Instant::now() + Duration::from_secs(expires)));
        Ok(value)
    }

    /// Pauses every request until the window resets when fewer than the buffer remain.
    fn note_rate_limit(&self, head: &HeaderMap) {
        let get = |h: &Option<String>| h.as_deref().and_then(|h| header_u64(head, h));
        let (Some(remaining), Some(limit)) = (
            get(&self.rate.remaining_header),
            get(&self.rate.limit_header),
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
        let wait = self.until_reset(head).unwrap_or(Duration::from_secs(60));
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

    /// How long until the reset the reset header names.
    fn until_reset(&self, head: &HeaderMap) -> Option<Duration> {
        let text = head
            .get(self.rate.reset_header.as_deref()?)?
            .to_str()
            .ok()?
            .trim();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        // One extra second: reset instants are rounded down.
        let at = match self.rate.reset_format {
            ResetFormat::Seconds => {
                return Some(Duration::from_secs(text.parse::<u64>().ok()? + 1));
            }
            ResetFormat::EpochSeconds => Duration::from_secs(text.parse().ok()?),
            ResetFormat::EpochMillis => Duration::from_millis(text.parse().ok()?),
            ResetFormat::HttpDate => http_date(text)?,
        };
        Some(at.saturating_sub(now) + Duration::from_secs(1))
    }
}

/// Seconds since the epoch of an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`).
fn http_date(text: &str) -> Option<Duration> {
    let t = jiff::fmt::rfc2822::parse(text).ok()?.timestamp();
    u64::try_from(t.as_second()).ok().map(Duration::from_secs)
}

/// A `retry-after` header: seconds, or an HTTP date.
fn retry_after(head: &HeaderMap, name: &str) -> Option<Duration> {
    let text = head.get(name)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date(text)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    Some(at.saturating_sub(now))
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

/// The message of a JSON error body (`message`, else `error` as text or as an object with a
/// `message`, else `detail`), or the start of the body.
pub fn message(body: &[u8]) -> String {
    let v = serde_json::from_slice::<serde_json::Value>(body).ok();
    let field = |v: &serde_json::Value, key: &str| match v.get(key) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(o @ serde_json::Value::Object(_)) => {
            o.get("message").and_then(|m| m.as_str()).map(str::to_owned)
        }
        _ => None,
    };
    v.and_then(|v| {
        ["message", "error", "detail"]
            .iter()
            .find_map(|k| field(&v, k))
    })
    .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

/// A transport error without its URL (which may carry a query-string key).
fn transport_error(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body read failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// `rel="next"` of a `Link` header.
pub fn next_link(head: &HeaderMap) -> Option<String> {
    link(head, "next")
}

/// The URL of relation `rel` in a `Link` header.
pub fn link(head: &HeaderMap, rel: &str) -> Option<String> {
    let quoted = format!("rel=\"{rel}\"");
    let bare = format!("rel={rel}");
    head.get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let mut pieces = part.split(';');
            let url = pieces.next()?.trim().strip_prefix('<')?.strip_suffix('>')?;
            pieces
                .any(|p| p.trim() == quoted || p.trim() == bare)
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

/// Headers of a request, filled from the scope; like parameters, those that read
/// `{bookmark}` are left out while there is no bookmark.
pub fn headers(
    scope: &Scope,
    headers: &BTreeMap<String, Template>,
    what: &str,
) -> Result<BTreeMap<String, String>, Error> {
    scope.params(headers, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_find_their_relation_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            HeaderValue::from_static("<http://x/a?page=1>; rel=\"prev\", <http://x/a?page=3&q=1>; rel=\"next\", <http://x/a?page=9>; rel=\"last\""),
        );
        assert_eq!(next_link(&h).as_deref(), Some("http://x/a?page=3&q=1"));
        assert_eq!(link(&h, "last").as_deref(), Some("http://x/a?page=9"));
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
    fn retry_after_takes_seconds_or_a_date() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, "retry-after"), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h, "retry-after"), Some(Duration::ZERO));
        assert_eq!(
            http_date("Thu, 01 Jan 1970 00:01:00 GMT"),
            Some(Duration::from_secs(60))
        );
    }
}
