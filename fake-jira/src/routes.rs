//! The endpoints: Jira Cloud REST v3 (and the v2 endpoints singer-io tap-jira calls), the layer
//! every API request crosses (auth, faults, latency, statistics) and `/_fake/*`.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::data::{FieldSel, Issue, Mutation, Render, Site, fields};
use crate::faults::Kind;
use crate::jql::{self, Clause, SortField};
use crate::world::SharedWorld;

type Params = Query<HashMap<String, String>>;

/// Every route.
pub fn router() -> Router<SharedWorld> {
    Router::new()
        .route("/rest/api/{v}/search/jql", get(search))
        .route("/rest/api/{v}/search", get(gone).post(gone))
        .route("/rest/api/{v}/issue/{key}/comment", get(comments))
        .route("/rest/api/{v}/issue/{key}/worklog", get(worklogs))
        .route("/rest/api/{v}/project/search", get(projects))
        .route("/rest/api/{v}/users/search", get(users))
        .route("/rest/api/{v}/field", get(field_list))
        .route("/rest/api/{v}/myself", get(myself))
        .route("/rest/api/{v}/serverInfo", get(server_info))
        .route("/rest/api/{v}/group/member", get(group_members))
        .route("/rest/api/{v}/worklog/updated", get(worklogs_updated))
        .route("/rest/api/{v}/worklog/list", post(worklog_list))
        .route("/_fake/truth", get(truth))
        .route("/_fake/stats", get(stats))
        .route("/_fake/requests", get(requests))
        .route("/_fake/mutate", post(mutate))
}

/// Jira's error body.
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorMessages": [message], "errors": {}})),
    )
        .into_response()
}

fn version(v: &str) -> Option<u8> {
    match v {
        "2" => Some(2),
        "3" => Some(3),
        _ => None,
    }
}

fn no_version() -> Response {
    error(StatusCode::NOT_FOUND, "No API version here")
}

fn number(p: &HashMap<String, String>, name: &str, default: usize, cap: usize) -> usize {
    p.get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .min(cap)
}

/// Auth, request numbering, faults, latency and statistics.
pub async fn gate(State(world): State<SharedWorld>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let line = format!("{} {}", req.method(), req.uri());
    if path.starts_with("/_fake/") {
        return next.run(req).await;
    }
    if !world.config.latency.is_zero() {
        tokio::time::sleep(world.config.latency).await;
    }
    let authorized = match &world.config.credentials {
        None => true,
        Some((email, token)) => {
            let want = format!("Basic {}", base64(&format!("{email}:{token}")));
            req.headers()
                .get(header::AUTHORIZATION)
                .is_some_and(|v| v.as_bytes() == want.as_bytes())
        }
    };
    let response = if !authorized {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            "Client must be authenticated to access this resource.",
        )
            .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"protected-area\""),
        );
        r
    } else {
        let fault = {
            let mut state = world.lock();
            state.numbered += 1;
            let n = state.numbered;
            let mut fired = std::mem::take(&mut state.fired);
            let hit = world.config.faults.hit(n, &mut fired, false);
            state.fired = fired;
            if let Some(k) = hit {
                *state.stats.faults.entry(k.name()).or_default() += 1;
            }
            hit
        };
        match fault {
            Some(Kind::Http(status)) => error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "Internal server error",
            ),
            Some(Kind::Throttle(retry)) => {
                let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.");
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry));
                r.headers_mut().insert(
                    "x-ratelimit-reason",
                    HeaderValue::from_static("jira-burst-based"),
                );
                r
            }
            Some(Kind::Churn) | None => next.run(req).await,
        }
    };
    let status = response.status().as_u16();
    let mut state = world.lock();
    state.log.push(format!("{line} {status}"));
    state.stats.total += 1;
    *state.stats.by_status.entry(status).or_default() += 1;
    *state
        .stats
        .by_path
        .entry(path)
        .or_default()
        .entry(status)
        .or_default() += 1;
    response
}

/// Standard base64 with padding.
pub fn base64(text: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = text.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | (u32::from(c) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn gone() -> Response {
    error(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

/// The keyset a page token holds: the sort value and the id of the last issue returned.
fn token_of(sort: i64, id: u64) -> String {
    format!("{:016x}{:016x}", sort as u64, id)
}

fn read_token(t: &str) -> Option<(i64, u64)> {
    if t.len() != 32 {
        return None;
    }
    let sort = u64::from_str_radix(&t[..16], 16).ok()? as i64;
    let id = u64::from_str_radix(&t[16..], 16).ok()?;
    Some((sort, id))
}

async fn search(
    State(world): State<SharedWorld>,
    Path(v): Path<String>,
    Query(p): Params,
) -> Response {
    let Some(v) = version(&v) else {
        return no_version();
    };
    let unbounded = || {
        error(
            StatusCode::BAD_REQUEST,
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        )
    };
    let Some(text) = p.get("jql").filter(|j| !j.trim().is_empty()) else {
        return unbounded();
    };
    let mut state = world.lock();
    let query = match jql::parse(text, &world.config.zone, state.site.clock) {
        Ok(q) => q,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("Error in the JQL Query: {e}"),
            );
        }
    };
    if query.clauses.is_empty() {
        return unbounded();
    }
    let after = match p.get("nextPageToken") {
        None => None,
        Some(t) => match read_token(t) {
            Some(k) => Some(k),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The provided next page token is invalid or expired.",
                );
            }
        },
    };
    state.catch_up();
    let (field, desc) = query.order;
    let sort_of = |i: &crate::data::Issue| match field {
        SortField::Updated => i.updated.as_millisecond(),
        SortField::Created => i.created.as_millisecond(),
        SortField::Id => i.id as i64,
    };
    let matches = |i: &crate::data::Issue, state: &crate::world::State| {
        query.clauses.iter().all(|c| match c {
            Clause::Any => true,
            Clause::Project(keys) => keys.contains(&state.site.projects[i.project].key),
            Clause::Date { updated, op, at } => {
                op.holds(if *updated { i.updated } else { i.created }, *at)
            }
        })
    };
    if after.is_some() {
        state.paged += 1;
        let n = state.paged;
        let mut churned = std::mem::take(&mut state.churned);
        let hit = world.config.faults.hit(n, &mut churned, true);
        state.churned = churned;
        if hit.is_some() {
            let head = {
                let mut seen: Vec<&crate::data::Issue> = state
                    .index
                    .iter()
                    .flatten()
                    .filter(|i| matches(i, &state))
                    .collect();
                seen.sort_by_key(|i| (sort_of(i), i.id));
                if desc {
                    seen.reverse();
                }
                seen.first().map(|i| i.key.clone())
            };
            if let Some(key) = head {
                let _ = state.mutate(&Mutation::UpdateIssue { key }, std::time::Duration::ZERO);
                *state.stats.faults.entry("churn".into()).or_default() += 1;
            }
        }
    }
    let mut hits: Vec<&crate::data::Issue> = state
        .index
        .iter()
        .flatten()
        .filter(|i| matches(i, &state))
        .filter(|i| match after {
            None => true,
            Some(k) if desc => (sort_of(i), i.id) < k,
            Some(k) => (sort_of(i), i.id) > k,
        })
        .collect();
    hits.sort_by_key(|i| (sort_of(i), i.id));
    if desc {
        hits.reverse();
    }
    let sel = FieldSel::parse(p.get("fields").map(String::as_str));
    let limit = number(&p, "maxResults", 50, 100).max(1);
    let expand = p.get("expand").cloned().unwrap_or_default();
    let render = world.render(v);
    let page: Vec<Value> = hits
        .iter()
        .take(limit)
        .map(|i| {
            let mut issue = render.issue(&state.site, i, &sel);
            if expand.contains("changelog") {
                issue["changelog"] =
                    json!({"startAt": 0, "maxResults": 0, "total": 0, "histories": []});
            }
            if expand.contains("transitions") {
                issue["transitions"] = json!([]);
            }
            issue
        })
        .collect();
    let is_last = hits.len() <= limit;
    let mut body = json!({"issues": page, "isLast": is_last});
    if !is_last && let Some(last) = hits.get(limit - 1) {
        body["nextPageToken"] = json!(token_of(sort_of(last), last.id));
    }
    axum::Json(body).into_response()
}

/// `startAt` / `maxResults` / `total` paging of `items` under `key`.
fn offset_page(p: &HashMap<String, String>, items: Vec<Value>, key: &str, cap: usize) -> Response {
    let start = number(p, "startAt", 0, usize::MAX);
    let max = number(p, "maxResults", 50, cap);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    axum::Json(json!({"startAt": start, "maxResults": max, "total": total, key: page}))
        .into_response()
}

fn no_issue() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Issue does not exist or you do not have permission to see it.",
    )
}

async fn comments(world: State<SharedWorld>, path: Path<(String, String)>, p: Params) -> Response {
    issue_list(world, path, p, "comments", |r, site, issue| {
        issue
            .comments
            .iter()
            .map(|c| r.comment(site, issue, c))
            .collect()
    })
}

async fn worklogs(world: State<SharedWorld>, path: Path<(String, String)>, p: Params) -> Response {
    issue_list(world, path, p, "worklogs", |r, site, issue| {
        issue
            .worklogs
            .iter()
            .map(|w| r.worklog(site, issue, w))
            .collect()
    })
}

/// One issue's comments or worklogs (`rendered`), offset-paged under `key`; the issue is named
/// by key or id.
fn issue_list(
    State(world): State<SharedWorld>,
    Path((v, issue_key)): Path<(String, String)>,
    Query(p): Params,
    key: &str,
    rendered: impl Fn(&Render<'_>, &Site, &Issue) -> Vec<Value>,
) -> Response {
    let Some(v) = version(&v) else {
        return no_version();
    };
    let state = world.lock();
    let site = &state.site;
    let Some(issue) = site
        .issues
        .iter()
        .find(|i| i.key == issue_key || i.id.to_string() == issue_key)
    else {
        return no_issue();
    };
    offset_page(&p, rendered(&world.render(v), site, issue), key, 100)
}

/// A `values` page with `isLast` and, before the end, `nextPage`.
fn values_page(
    world: &SharedWorld,
    path: &str,
    p: &HashMap<String, String>,
    items: Vec<Value>,
    cap: usize,
) -> Response {
    let start = number(p, "startAt", 0, usize::MAX);
    let max = number(p, "maxResults", 50, cap).max(1);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let is_last = start + max >= total;
    let mut body = json!({
        "self": format!("{}{path}?startAt={start}&maxResults={max}", world.base),
        "maxResults": max, "startAt": start, "total": total, "isLast": is_last, "values": page,
    });
    if !is_last {
        body["nextPage"] = json!(format!(
            "{}{path}?startAt={}&maxResults={max}",
            world.base,
            start + max
        ));
    }
    axum::Json(body).into_response()
}

async fn projects(
    State(world): State<SharedWorld>,
    Path(v): Path<String>,
    Query(p): Params,
) -> Response {
    let Some(v) = version(&v) else {
        return no_version();
    };
    let items = {
        let state = world.lock();
        let render = world.render(v);
        state
            .site
            .projects
            .iter()
            .map(|x| render.project(x))
            .collect()
    };
    values_page(
        &world,
        &format!("/rest/api/{v}/project/search"),
        &p,
        items,
        50,
    )
}

async fn users(
    State(world): State<SharedWorld>,
    Path(v): Path<String>,
    Query(p): Params,
) -> Response {
    let Some(v) = version(&v) else {
        return no_version();
    };
    let state = world.lock();
    let render = world.render(v);
    let start = number(&p, "startAt", 0, usize::MAX);
    let max = number(&p, "maxResults", 50, 100);
    let page: Vec<Value> = state
        .site
        .users
        .iter()
        .skip(start)
        .take(max)
        .map(|u| render.user(u))
        .collect();
    axum::Json(Value::Array(page)).into_response()
}

async fn group_members(
    State(world): State<SharedWorld>,
    Path(v): Path<String>,
    Query(p): Params,
) -> Response {
    let Some(v) = version(&v) else {
        return no_version();
    };
    if p.get("groupname").map(String::as_str) != Some("jira-software-users") {
        return error(StatusCode::NOT_FOUND, "Group does not exist");
    }
    let inactive = p
        .get("includeInactiveUsers")
        .is_some_and(|x| x == "true" || x == "True");
    let items = {
        let state = world.lock();
        let render = world.render(v);
        state
            .site
            .users
            .iter()
            .filter(|u| inactive || u.active)
            .map(|u| render.user(u))
            .collect()
    };
    values_page(
        &world,
        &format!("/rest/api/{v}/group/member"),
        &p,
        items,
        50,
    )
}

async fn field_list(Path(v): Path<String>) -> Response {
    match version(&v) {
        Some(_) => axum::Json(fields()).into_response(),
        None => no_version(),
    }
}

async fn myself(State(world): State<SharedWorld>, Path(v): Path<String>) -> Response {
    let Some(v) = version(&v) else {
        return no_version();
    };
    let email = world
        .config
        .credentials
        .as_ref()
        .map_or("admin@example.com".to_owned(), |(e, _)| e.clone());
    axum::Json(json!({
        "self": format!("{}/rest/api/{v}/user?accountId=5b10a2844c20165700ede21g", world.base),
        "accountId": "5b10a2844c20165700ede21g",
        "accountType": "atlassian",
        "emailAddress": email,
        "displayName": "Site Admin",
        "active": true,
        "timeZone": world.config.zone_name,
        "locale": "en_US",
        "groups": {"size": 1, "items": []},
        "applicationRoles": {"size": 1, "items": []},
        "expand": "groups,applicationRoles",
    }))
    .into_response()
}

async fn server_info(State(world): State<SharedWorld>) -> Response {
    axum::Json(json!({
        "baseUrl": world.base, "displayUrl": world.base, "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100_000,
        "serverTitle": "Jira", "defaultLocale": {"locale": "en_US"},
    }))
    .into_response()
}

/// `/worklog/updated?since=MS`: ids of the worklogs updated at or after `since`, 1000 a page.
async fn worklogs_updated(
    State(world): State<SharedWorld>,
    Path(v): Path<String>,
    Query(p): Params,
) -> Response {
    if version(&v).is_none() {
        return no_version();
    }
    let since: i64 = p.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    let state = world.lock();
    let mut all: Vec<(i64, u64)> = state
        .site
        .issues
        .iter()
        .flat_map(|i| i.worklogs.iter())
        .map(|w| (w.updated.as_millisecond(), w.id))
        .filter(|(u, _)| *u >= since)
        .collect();
    all.sort();
    let last = all.len() <= 1000;
    all.truncate(1000);
    let until = all.last().map_or(since, |(u, _)| *u);
    let values: Vec<Value> = all
        .iter()
        .map(|(u, id)| json!({"worklogId": id, "updatedTime": u, "properties": []}))
        .collect();
    let mut body = json!({
        "values": values, "since": since, "until": until, "lastPage": last,
        "self": format!("{}/rest/api/{v}/worklog/updated?since={since}", world.base),
    });
    if !last {
        body["nextPage"] = json!(format!(
            "{}/rest/api/{v}/worklog/updated?since={until}",
            world.base
        ));
    }
    axum::Json(body).into_response()
}

async fn worklog_list(
    State(world): State<SharedWorld>,
    Path(v): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(v) = version(&v) else {
        return no_version();
    };
    let ids: Vec<u64> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b.get("ids").cloned())
        .and_then(|ids| serde_json::from_value::<Vec<Value>>(ids).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|x| {
            x.as_u64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        })
        .collect();
    if ids.len() > 1000 {
        return error(
            StatusCode::BAD_REQUEST,
            "The number of worklog IDs must be 1000 or fewer.",
        );
    }
    let state = world.lock();
    let render = world.render(v);
    let items: Vec<Value> = state
        .site
        .issues
        .iter()
        .flat_map(|i| i.worklogs.iter().map(move |w| (i, w)))
        .filter(|(_, w)| ids.contains(&w.id))
        .map(|(i, w)| render.worklog(&state.site, i, w))
        .collect();
    axum::Json(Value::Array(items)).into_response()
}

async fn truth(State(world): State<SharedWorld>) -> Response {
    axum::Json(world.truth()).into_response()
}

async fn requests(State(world): State<SharedWorld>) -> Response {
    axum::Json(world.requests()).into_response()
}

async fn stats(State(world): State<SharedWorld>) -> Response {
    axum::Json(world.stats()).into_response()
}

/// `POST /_fake/mutate` with one [`Mutation`] or a list; `?lag_ms=N` delays search.
async fn mutate(
    State(world): State<SharedWorld>,
    Query(p): Params,
    body: axum::body::Bytes,
) -> Response {
    let parsed: Result<Vec<Mutation>, _> = serde_json::from_slice::<Vec<Mutation>>(&body)
        .or_else(|_| serde_json::from_slice::<Mutation>(&body).map(|m| vec![m]));
    let list = match parsed {
        Ok(l) => l,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("not a mutation: {e}")),
    };
    let lag = p
        .get("lag_ms")
        .and_then(|v| v.parse().ok())
        .map_or(world.config.index_lag, std::time::Duration::from_millis);
    for m in &list {
        if let Err(e) = world.mutate_with_lag(m, lag) {
            return error(StatusCode::BAD_REQUEST, &e);
        }
    }
    (StatusCode::OK, axum::Json(json!({"applied": list.len()}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_the_standard() {
        assert_eq!(base64("a@b.c:tok"), "YUBiLmM6dG9r");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64("a"), "YQ==");
        assert_eq!(
            read_token(&token_of(1_700_000_000_000, 42)),
            Some((1_700_000_000_000, 42))
        );
    }
}
