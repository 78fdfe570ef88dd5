//! The endpoints under `/api/v4`, the layer every API request crosses (auth, counting, faults,
//! latency, rate-limit headers) and the test controls under `/_fake/`.

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::data::{Mutation, instant, iso, parse_instant};
use crate::faults::FaultKind;
use crate::paging::page;
use crate::request::{Query, error};
use crate::world::SharedWorld;

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "message",
        &format!("404 {what} Not Found"),
    )
}

/// Marks a request on which the churn fault fired.
#[derive(Debug, Clone, Copy)]
struct Churn;

/// The request header that tells the handlers which scheme their listener serves.
const SCHEME: &str = "x-fake-gitlab-scheme";

/// The router of a listener serving `scheme`: API routes behind the layer, controls beside it.
pub(crate) fn router(world: SharedWorld, scheme: &'static str) -> Router {
    let api = Router::new()
        .route("/user", get(user))
        .route("/projects", get(projects))
        .route("/projects/{id}", get(project))
        .route("/projects/{id}/repository/commits", get(commits))
        .route("/projects/{id}/repository/branches", get(branches))
        .route("/projects/{id}/issues", get(issues))
        .route("/projects/{id}/merge_requests", get(merge_requests))
        .route("/projects/{id}/issues/{iid}/notes", get(issue_notes))
        .route("/projects/{id}/merge_requests/{iid}/notes", get(mr_notes))
        .route("/projects/{id}/releases", get(releases))
        .route("/projects/{id}/milestones", get(project_empty))
        .route("/projects/{id}/users", get(project_users))
        .route("/groups/{id}", get(group))
        .route("/groups/{id}/projects", get(group_projects))
        .route("/groups/{id}/milestones", get(group_empty))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "error", "404 Not Found") })
        .layer(middleware::from_fn_with_state(world.clone(), layer));
    Router::new()
        .nest("/api/v4", api)
        .route("/_fake/truth", get(truth))
        .route("/_fake/mutate", post(mutate))
        .route("/_fake/stats", get(stats))
        .route("/_fake/stats/reset", post(reset_stats))
        .with_state(world)
        .layer(middleware::map_request(
            move |mut req: Request| async move {
                req.headers_mut()
                    .insert(SCHEME, HeaderValue::from_static(scheme));
                req
            },
        ))
}

fn token_of(headers: &HeaderMap, q: &Query) -> Option<String> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    h("private-token")
        .map(str::to_owned)
        .or_else(|| {
            h("authorization")
                .and_then(|a| a.strip_prefix("Bearer "))
                .map(str::to_owned)
        })
        .or_else(|| q.get("private_token").map(str::to_owned))
}

/// `RateLimit-*` headers for a window that resets `reset_in` seconds from `now`.
fn ratelimit_headers(h: &mut HeaderMap, remaining: u64, now: i64, reset_in: u64) {
    let reset = now + reset_in as i64;
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set("ratelimit-limit", "2000".into());
    set("ratelimit-remaining", remaining.to_string());
    set("ratelimit-reset", reset.to_string());
    set("ratelimit-resettime", httpdate(reset));
}

fn httpdate(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

fn wall_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn layer(State(world): State<SharedWorld>, mut req: Request, next: Next) -> Response {
    let q = Query::new(req.uri().query().map(str::to_owned));
    let path = format!("/api/v4{}", req.uri().path());
    let mut shown = Query::default();
    for (k, v) in &q.pairs {
        let v = if k == "private_token" {
            "***".to_owned()
        } else {
            v.clone()
        };
        shown.pairs.push((k.clone(), v));
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(shown.pairs.iter())
        .finish();
    let line = format!(
        "{} {path}{}{query}",
        req.method(),
        if query.is_empty() { "" } else { "?" }
    );
    if let Some(want) = &world.config.token
        && token_of(req.headers(), &q).as_deref() != Some(want.as_str())
    {
        world.count(line, &path, false);
        return error(StatusCode::UNAUTHORIZED, "message", "401 Unauthorized");
    }
    let churnable = path.ends_with("/issues") || path.ends_with("/merge_requests");
    let fault = world.count(line, &path, churnable);
    if !world.config.latency.is_zero() {
        tokio::time::sleep(world.config.latency).await;
    }
    match fault {
        Some(FaultKind::Http500) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "message",
                "500 Internal Server Error",
            );
        }
        Some(FaultKind::Http502) => {
            return (
                StatusCode::BAD_GATEWAY,
                "<html><body>502 Bad Gateway</body></html>",
            )
                .into_response();
        }
        Some(FaultKind::RateLimit) => {
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "Retry later\n").into_response();
            ratelimit_headers(r.headers_mut(), 0, wall_now(), world.config.retry_after_s);
            if let Ok(v) = HeaderValue::from_str(&world.config.retry_after_s.to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            return r;
        }
        Some(FaultKind::Churn) => {
            req.extensions_mut().insert(Churn);
        }
        None => {}
    }
    let mut r = next.run(req).await;
    if world.config.ratelimit_always {
        ratelimit_headers(r.headers_mut(), 1999, wall_now(), 60);
    }
    r
}

/// `scheme://host` the client reached, for `Link` URLs.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = headers
        .get(SCHEME)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

type Ctx = (State<SharedWorld>, HeaderMap, RawQuery);

fn list(ctx: Ctx, path: String, items: Vec<Value>, keyset_ok: bool) -> Response {
    let (_, headers, RawQuery(raw)) = ctx;
    let q = Query::new(raw);
    page(items, &q, &base(&headers), &path, keyset_ok)
}

fn encoded(id: &str) -> String {
    id.replace('/', "%2F")
}

async fn user(State(world): State<SharedWorld>) -> Response {
    let u = world.lock().data.users[0].clone();
    axum::Json(u).into_response()
}

async fn projects(State(w): State<SharedWorld>, h: HeaderMap, q: RawQuery) -> Response {
    let items = w
        .lock()
        .data
        .projects
        .iter()
        .map(|p| p.body.clone())
        .collect();
    list((State(w), h, q), "/api/v4/projects".into(), items, true)
}

async fn project(State(w): State<SharedWorld>, Path(id): Path<String>) -> Response {
    let g = w.lock();
    match g.data.project_index(&id) {
        Some(p) => axum::Json(g.data.projects[p].body.clone()).into_response(),
        None => not_found("Project"),
    }
}

/// Runs `f` on the project `id`, or answers 404 Project Not Found.
fn with_project<T>(
    w: &SharedWorld,
    id: &str,
    f: impl FnOnce(&crate::data::Project) -> T,
) -> Result<T, Box<Response>> {
    let g = w.lock();
    g.data
        .project_index(id)
        .map(|p| f(&g.data.projects[p]))
        .ok_or_else(|| Box::new(not_found("Project")))
}

fn between(
    items: Vec<Value>,
    field: &str,
    after: Option<&str>,
    before: Option<&str>,
) -> Vec<Value> {
    let after = after.and_then(parse_instant);
    let before = before.and_then(parse_instant);
    items
        .into_iter()
        .filter(|v| {
            let t = instant(v, field);
            after.is_none_or(|a| t >= a) && before.is_none_or(|b| t <= b)
        })
        .collect()
}

async fn commits(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.clone());
    let items = match with_project(&w, &id, |p| p.commits.clone()) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let items = between(items, "committed_date", q.get("since"), q.get("until"));
    let path = format!("/api/v4/projects/{}/repository/commits", encoded(&id));
    list((State(w), h, RawQuery(raw)), path, items, false)
}

async fn branches(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    h: HeaderMap,
    raw: RawQuery,
) -> Response {
    let items = match with_project(&w, &id, |p| {
        p.commits
            .first()
            .map(|c| {
                json!({
                    "name": "main", "commit": c, "merged": false, "protected": true,
                    "default": true, "developers_can_push": false, "developers_can_merge": false,
                    "can_push": true, "web_url": format!("{}/-/tree/main", p.body["web_url"].as_str().unwrap_or("")),
                })
            })
            .into_iter()
            .collect::<Vec<_>>()
    }) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let path = format!("/api/v4/projects/{}/repository/branches", encoded(&id));
    list((State(w), h, raw), path, items, false)
}

/// Sorts issues, merge requests or notes as `order_by` and `sort` ask (ties by id).
fn sorted(mut items: Vec<Value>, q: &Query, default_order: &str) -> Vec<Value> {
    let field = match q.get("order_by") {
        Some("updated_at") => "updated_at",
        Some("created_at") => "created_at",
        Some("released_at") => "released_at",
        _ => default_order,
    };
    items.sort_by_key(|v| (instant(v, field), v["id"].as_u64().unwrap_or(0)));
    if q.get("sort") != Some("asc") {
        items.reverse();
    }
    items
}

async fn items(
    w: SharedWorld,
    id: String,
    mr: bool,
    churn: bool,
    h: HeaderMap,
    raw: Option<String>,
) -> Response {
    let q = Query::new(raw.clone());
    let select = |all: Vec<Value>| {
        let all = between(
            all,
            "updated_at",
            q.get("updated_after"),
            q.get("updated_before"),
        );
        let all = between(
            all,
            "created_at",
            q.get("created_after"),
            q.get("created_before"),
        );
        let all: Vec<Value> = match q.get("state") {
            Some(s) if s != "all" => all.into_iter().filter(|v| v["state"] == s).collect(),
            _ => all,
        };
        sorted(all, &q, "created_at")
    };
    let pick = |p: &crate::data::Project| {
        if mr {
            p.merge_requests.clone()
        } else {
            p.issues.clone()
        }
    };
    let mut found = match with_project(&w, &id, pick) {
        Ok(v) => select(v),
        Err(r) => return *r,
    };
    if churn && let Some(first) = found.first().and_then(|v| v["iid"].as_u64()) {
        let mut g = w.lock();
        if let Some(p) = g.data.project_index(&id) {
            g.data.touch(p, first, mr);
            found = select(if mr {
                g.data.projects[p].merge_requests.clone()
            } else {
                g.data.projects[p].issues.clone()
            });
        }
    }
    let kind = if mr { "merge_requests" } else { "issues" };
    let path = format!("/api/v4/projects/{}/{kind}", encoded(&id));
    list((State(w), h, RawQuery(raw)), path, found, false)
}

async fn issues(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    churn: Option<axum::Extension<Churn>>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    items(w, id, false, churn.is_some(), h, raw).await
}

async fn merge_requests(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    churn: Option<axum::Extension<Churn>>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    items(w, id, true, churn.is_some(), h, raw).await
}

fn notes(
    w: SharedWorld,
    id: String,
    iid: u64,
    mr: bool,
    h: HeaderMap,
    raw: Option<String>,
) -> Response {
    let q = Query::new(raw.clone());
    let found = with_project(&w, &id, |p| {
        let (list, notes) = if mr {
            (&p.merge_requests, &p.mr_notes)
        } else {
            (&p.issues, &p.issue_notes)
        };
        list.iter()
            .any(|i| i["iid"] == iid)
            .then(|| notes.get(&iid).cloned().unwrap_or_default())
    });
    let all = match found {
        Ok(Some(n)) => n,
        Ok(None) => return not_found(if mr { "Merge Request" } else { "Issue" }),
        Err(r) => return *r,
    };
    let kind = if mr { "merge_requests" } else { "issues" };
    let path = format!("/api/v4/projects/{}/{kind}/{iid}/notes", encoded(&id));
    list(
        (State(w), h, RawQuery(raw)),
        path,
        sorted(all, &q, "created_at"),
        false,
    )
}

async fn issue_notes(
    State(w): State<SharedWorld>,
    Path((id, iid)): Path<(String, u64)>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    notes(w, id, iid, false, h, raw)
}

async fn mr_notes(
    State(w): State<SharedWorld>,
    Path((id, iid)): Path<(String, u64)>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    notes(w, id, iid, true, h, raw)
}

async fn releases(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.clone());
    let all = match with_project(&w, &id, |p| p.releases.clone()) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let path = format!("/api/v4/projects/{}/releases", encoded(&id));
    list(
        (State(w), h, RawQuery(raw)),
        path,
        sorted(all, &q, "released_at"),
        false,
    )
}

async fn project_empty(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    h: HeaderMap,
    raw: RawQuery,
) -> Response {
    if let Err(r) = with_project(&w, &id, |_| ()) {
        return *r;
    }
    let path = format!("/api/v4/projects/{}/milestones", encoded(&id));
    list((State(w), h, raw), path, vec![], false)
}

async fn project_users(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    h: HeaderMap,
    raw: RawQuery,
) -> Response {
    if let Err(r) = with_project(&w, &id, |_| ()) {
        return *r;
    }
    let users = w.lock().data.users.clone();
    let path = format!("/api/v4/projects/{}/users", encoded(&id));
    list((State(w), h, raw), path, users, false)
}

async fn group(State(w): State<SharedWorld>, Path(id): Path<String>) -> Response {
    let g = w.lock();
    let Some(group) = g.data.group(&id) else {
        return not_found("Group");
    };
    let mut body = g.data.group_body(group);
    body["projects"] = Value::Array(g.data.group_projects(group, false));
    axum::Json(body).into_response()
}

async fn group_projects(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.clone());
    let deep = q.get("include_subgroups") == Some("true");
    let found = {
        let g = w.lock();
        g.data
            .group(&id)
            .map(|group| g.data.group_projects(group, deep))
    };
    let Some(mut items) = found else {
        return not_found("Group");
    };
    if q.get("pagination") != Some("keyset") {
        items = sorted(items, &q, "created_at");
    }
    let path = format!("/api/v4/groups/{}/projects", encoded(&id));
    list((State(w), h, RawQuery(raw)), path, items, true)
}

async fn group_empty(
    State(w): State<SharedWorld>,
    Path(id): Path<String>,
    h: HeaderMap,
    raw: RawQuery,
) -> Response {
    if w.lock().data.group(&id).is_none() {
        return not_found("Group");
    }
    let path = format!("/api/v4/groups/{}/milestones", encoded(&id));
    list((State(w), h, raw), path, vec![], false)
}

async fn truth(State(w): State<SharedWorld>, RawQuery(raw): RawQuery) -> Response {
    let q = Query::new(raw);
    let Some(p) = q.get("project") else {
        return error(StatusCode::BAD_REQUEST, "error", "project is missing");
    };
    match w.truth(p) {
        Some(t) => axum::Json(t).into_response(),
        None => not_found("Project"),
    }
}

async fn mutate(State(w): State<SharedWorld>, RawQuery(raw): RawQuery, body: String) -> Response {
    let q = Query::new(raw);
    let Some(p) = q.get("project") else {
        return error(StatusCode::BAD_REQUEST, "error", "project is missing");
    };
    let ms: Vec<Mutation> = match serde_json::from_str::<Vec<Mutation>>(&body)
        .or_else(|_| serde_json::from_str::<Mutation>(&body).map(|m| vec![m]))
    {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_REQUEST, "error", &e.to_string()),
    };
    for m in &ms {
        if let Err(e) = w.mutate(p, m) {
            return error(StatusCode::BAD_REQUEST, "error", &e);
        }
    }
    axum::Json(json!({ "applied": ms.len(), "now": iso(w.lock().data.now) })).into_response()
}

async fn stats(State(w): State<SharedWorld>) -> Response {
    axum::Json(w.stats()).into_response()
}

async fn reset_stats(State(w): State<SharedWorld>) -> Response {
    w.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}
