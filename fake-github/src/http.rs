//! The layer every API request goes through, in GitHub's order: latency, `401 Bad credentials`
//! (without rate-limit headers), `403` without `User-Agent`, churn (the data changes before the
//! request is answered), injected faults, the primary rate limit, the route itself, then
//! `ETag`/`304` and the rate-limit headers. It also records request statistics. `/_fake/*`
//! bypasses all of it.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::faults::Fault;
use crate::routes::{error_body, json_response};
use crate::util::{etag_of, now_secs};
use crate::world::SharedWorld;

const UA_MESSAGE: &str = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.";

/// The middleware function (see the module docs).
pub(crate) async fn gate(State(world): State<SharedWorld>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_fake/") {
        return next.run(req).await;
    }
    if !world.config.latency.is_zero() {
        tokio::time::sleep(world.config.latency).await;
    }
    let resp = handle(&world, &path, req, next).await;
    let mut rt = world.runtime();
    let status = resp.status().as_u16();
    rt.stats.total += 1;
    *rt.stats.by_status.entry(status).or_default() += 1;
    *rt.stats
        .by_path
        .entry(path)
        .or_default()
        .entry(status)
        .or_default() += 1;
    resp
}

/// The credentials a request presents, checked against the configured token.
fn authenticate(world: &SharedWorld, headers: &HeaderMap) -> Result<bool, ()> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let v = v.trim();
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
                .unwrap_or(v)
                .trim()
                .to_owned()
        });
    match (&world.config.token, presented) {
        (Some(expected), Some(p)) if *expected == p => Ok(true),
        (Some(_), _) => Err(()),
        (None, p) => Ok(p.is_some()),
    }
}

async fn handle(world: &SharedWorld, path: &str, req: Request, next: Next) -> Response {
    let Ok(authenticated) = authenticate(world, req.headers()) else {
        let s = StatusCode::UNAUTHORIZED;
        return json_response(s, error_body(s, "Bad credentials").into_bytes(), None);
    };
    if req
        .headers()
        .get(header::USER_AGENT)
        .is_none_or(|v| v.is_empty())
    {
        let mut resp = (StatusCode::FORBIDDEN, UA_MESSAGE).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return resp;
    }
    let counted = path != "/rate_limit";
    let (number, slow, fault) = if counted {
        let n = {
            let mut rt = world.runtime();
            rt.requests += 1;
            rt.requests
        };
        if let Some(m) = world.config.faults.churn(n) {
            world.churn(n, m);
        }
        let (slow, fault) = world.config.faults.decide(n);
        (n, slow, fault)
    } else {
        (0, None, None)
    };
    if let Some(ms) = slow {
        world.fired("slow");
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    match fault {
        Some(Fault::Http(code)) => {
            world.fired(&format!("http{code}"));
            let s = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let msg = if code == 502 {
                "Server Error"
            } else {
                "Internal Server Error"
            };
            let resp = json_response(s, error_body(s, msg).into_bytes(), None);
            return finish(world, resp, number, false);
        }
        Some(Fault::Secondary { status, retry }) => {
            world.fired("secondary");
            let s = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
            let msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID FAKE.";
            let mut resp = json_response(s, error_body(s, msg).into_bytes(), None);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry));
            return finish(world, resp, number, false);
        }
        _ => {}
    }
    // Primary rate limit: refuse once the window's budget is spent.
    if counted {
        let refused = {
            let mut rt = world.runtime();
            let now = now_secs();
            rt.rate.roll(now);
            if rt.rate.remaining() == 0 {
                if let Some(short) = rt.rate.exhausted_reset {
                    // The fault's short window: reset soon after the budget ran out.
                    if rt.rate.reset > now + short as i64 {
                        rt.rate.reset = now + short as i64;
                    }
                }
                world.config.faults.primary().map_or(403, |p| p.status)
            } else {
                0
            }
        };
        if refused != 0 {
            world.fired("primary");
            let s = StatusCode::from_u16(refused).unwrap_or(StatusCode::FORBIDDEN);
            let msg = "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID FAKE.";
            let resp = json_response(s, error_body(s, msg).into_bytes(), None);
            return finish(world, resp, number, false);
        }
    }
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resp = next.run(req).await;
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => Bytes::new(),
    };
    let ok = parts.status == StatusCode::OK;
    if ok {
        let etag = etag_of(&bytes);
        let matches = if_none_match.is_some_and(|inm| {
            let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
            inm.split(',')
                .any(|t| t.trim() == "*" || bare(t) == bare(&etag))
        });
        if let Ok(v) = HeaderValue::from_str(&etag) {
            parts.headers.insert(header::ETAG, v);
        }
        if matches {
            let mut resp = StatusCode::NOT_MODIFIED.into_response();
            for h in [header::ETAG, header::LINK] {
                if let Some(v) = parts.headers.get(&h) {
                    resp.headers_mut().insert(h, v.clone());
                }
            }
            // A conditional request answered 304 uses no quota when it is authorized.
            return finish(world, resp, number, counted && !authenticated);
        }
    }
    let truncate = ok && fault == Some(Fault::Truncate);
    let resp = if truncate {
        world.fired("truncate");
        let full = bytes.len();
        let half = bytes.slice(..full / 2);
        // Send half, let it reach the client, then fail the body: hyper closes the connection.
        let head = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(half)]);
        let tail = futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::other("fake-github: truncated body fault"))
        });
        let body = Body::from_stream(futures_util::StreamExt::chain(head, tail));
        let mut resp = Response::from_parts(parts, body);
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
        resp
    } else {
        Response::from_parts(parts, Body::from(bytes))
    };
    finish(world, resp, number, counted)
}

/// Charges the quota (when `charge`) and adds GitHub's standard headers.
fn finish(world: &SharedWorld, mut resp: Response, number: u64, charge: bool) -> Response {
    let rate = {
        let mut rt = world.runtime();
        rt.rate.roll(now_secs());
        if charge {
            rt.rate.used += 1;
        }
        rt.rate
    };
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining()));
    h.insert("x-ratelimit-used", HeaderValue::from(rate.used));
    h.insert("x-ratelimit-reset", HeaderValue::from(rate.reset));
    h.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
    h.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    h.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("FAKE:{number:08X}")) {
        h.insert("x-github-request-id", v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60, s-maxage=60"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization, Cookie, X-GitHub-OTP"),
    );
    resp
}
