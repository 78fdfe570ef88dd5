//! HTTP routes, one module per endpoint family, plus what they share: query parsing, GitHub's
//! error bodies, repository lookup and page-number pagination with `Link` headers.

pub(crate) mod comments;
pub(crate) mod commits;
pub(crate) mod compare;
pub(crate) mod contributors;
pub(crate) mod control;
pub(crate) mod graphql;
pub(crate) mod issues;
pub(crate) mod orgs;
pub(crate) mod pulls;
pub(crate) mod rate_limit;
pub(crate) mod releases;
pub(crate) mod repos;
pub(crate) mod reviews;
pub(crate) mod stargazers;

use std::collections::HashMap;
use std::sync::RwLockReadGuard;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::data::frag::Frag;
use crate::data::{Repo, RepoFill};
use crate::world::SharedWorld;

/// All routes, without the cross-cutting layer (see [`crate::http`]).
pub(crate) fn router() -> Router<SharedWorld> {
    let mut r = Router::new()
        .route("/rate_limit", get(rate_limit::get))
        .route("/orgs/{org}/repos", get(orgs::list))
        .route("/graphql", post(graphql::query))
        .route("/_fake/truth", get(control::truth))
        .route("/_fake/stats", get(control::stats))
        .route("/_fake/mutate", post(control::mutate));
    // GitHub's Link headers point at /repositories/{id}/…: serve both spellings.
    for prefix in ["/repos/{owner}/{repo}", "/repositories/{id}"] {
        r = r
            .route(prefix, get(repos::get))
            .route(&format!("{prefix}/commits"), get(commits::list))
            .route(
                &format!("{prefix}/compare/{{basehead}}"),
                get(compare::compare),
            )
            .route(&format!("{prefix}/issues"), get(issues::list))
            .route(&format!("{prefix}/issues/comments"), get(comments::list))
            .route(
                &format!("{prefix}/issues/{{number}}/comments"),
                get(comments::list_for_issue),
            )
            .route(&format!("{prefix}/pulls"), get(pulls::list))
            .route(
                &format!("{prefix}/pulls/{{pull_number}}/reviews"),
                get(reviews::list),
            )
            .route(&format!("{prefix}/releases"), get(releases::list))
            .route(&format!("{prefix}/stargazers"), get(stargazers::list))
            .route(&format!("{prefix}/contributors"), get(contributors::list));
    }
    r.fallback(|| async { ApiError::not_found() })
}

/// What every repository endpoint starts from: the world, the path's repository, the base URL
/// the client used, the query and the headers.
pub(crate) struct RepoRequest {
    pub world: SharedWorld,
    pub path: HashMap<String, String>,
    pub origin: Origin,
    pub params: Params,
    pub headers: HeaderMap,
}

impl RepoRequest {
    /// The repository the path names.
    pub(crate) fn repo(&self) -> Result<RepoRef<'_>, ApiError> {
        RepoRef::find(&self.world, &self.path)
    }
}

impl axum::extract::FromRequestParts<SharedWorld> for RepoRequest {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        world: &SharedWorld,
    ) -> Result<Self, ApiError> {
        let axum::extract::Path(path) =
            axum::extract::Path::<HashMap<String, String>>::from_request_parts(parts, world)
                .await
                .map_err(|_| ApiError::not_found())?;
        Ok(RepoRequest {
            world: world.clone(),
            path,
            origin: Origin::new(&parts.headers, &world.data.base),
            params: Params::new(parts.uri.query().map(str::to_owned)),
            headers: parts.headers.clone(),
        })
    }
}

/// A GitHub error answer: status plus `{"message", "documentation_url", "status"}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found")
    }

    pub(crate) fn validation(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Validation Failed: {what}"),
        )
    }
}

/// GitHub's JSON error body.
pub(crate) fn error_body(status: StatusCode, message: &str) -> String {
    serde_json::json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.as_u16().to_string(),
    })
    .to_string()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(
            self.status,
            error_body(self.status, &self.message).into_bytes(),
            None,
        )
    }
}

/// A JSON response with GitHub's content type and an optional `Link` header.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>, link: Option<String>) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert(header::LINK, link);
    }
    resp
}

/// Query parameters, decoded, with the raw query kept for rebuilding `Link` URLs.
#[derive(Debug, Default)]
pub(crate) struct Params {
    raw: String,
    map: HashMap<String, String>,
}

impl Params {
    pub(crate) fn new(raw: Option<String>) -> Params {
        let raw = raw.unwrap_or_default();
        let map = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        Params { raw, map }
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.map
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `per_page`: default 30, at most 100.
    pub(crate) fn per_page(&self) -> usize {
        match self.get("per_page").and_then(|v| v.parse::<usize>().ok()) {
            Some(0) | None => 30,
            Some(n) => n.min(100),
        }
    }

    /// `page`: 1-based, default 1.
    pub(crate) fn page(&self) -> usize {
        self.get("page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1)
    }

    /// A timestamp parameter (`since`, `until`), `Ok(None)` when absent.
    pub(crate) fn time(&self, k: &str) -> Result<Option<i64>, String> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => crate::util::parse_ts(v)
                .map(Some)
                .ok_or_else(|| format!("invalid {k} {v:?}")),
        }
    }

    /// `direction`: `asc`/`desc`, or `default` when absent or unknown.
    pub(crate) fn descending(&self, default: bool) -> bool {
        match self.get("direction") {
            Some("asc") => false,
            Some("desc") => true,
            _ => default,
        }
    }

    /// The raw query with `key` set to `value` (replaced in place, or appended) and the keys in
    /// `drop` removed; other parameters keep their order and encoding.
    pub(crate) fn with(&self, key: &str, value: &str, drop: &[&str]) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut placed = false;
        for p in self.raw.split('&').filter(|p| !p.is_empty()) {
            let name = p.split('=').next().unwrap_or_default();
            if name == key {
                if !placed {
                    parts.push(format!("{key}={value}"));
                    placed = true;
                }
            } else if !drop.contains(&name) {
                parts.push(p.to_owned());
            }
        }
        if !placed {
            parts.push(format!("{key}={value}"));
        }
        parts.join("&")
    }
}

/// Where a request came from: the base URL the client used (for `Link`) and the path.
#[derive(Debug)]
pub(crate) struct Origin {
    pub base: String,
}

impl Origin {
    pub(crate) fn new(headers: &HeaderMap, fallback: &str) -> Origin {
        let base = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map_or_else(|| fallback.to_owned(), |h| format!("http://{h}"));
        Origin { base }
    }
}

/// The page-number `Link` header as GitHub writes it, or `None` when one page holds everything.
pub(crate) fn page_link(
    url: &str,
    params: &Params,
    page: usize,
    total: usize,
    per_page: usize,
) -> Option<String> {
    let last = total.div_ceil(per_page).max(1);
    if page == 1 && last == 1 {
        return None;
    }
    let at = |p: usize| format!("<{url}?{}>", params.with("page", &p.to_string(), &[]));
    let mut rels = Vec::new();
    if page > 1 {
        rels.push(format!("{}; rel=\"prev\"", at(page - 1)));
    }
    if page < last {
        rels.push(format!("{}; rel=\"next\"", at(page + 1)));
        rels.push(format!("{}; rel=\"last\"", at(last)));
    }
    if page > 1 {
        rels.push(format!("{}; rel=\"first\"", at(1)));
    }
    Some(rels.join(", "))
}

/// Writes `[item,item,…]`.
pub(crate) fn json_array<'a>(
    items: impl Iterator<Item = &'a Frag>,
    fill: &RepoFill<'_>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.push(b'[');
    for (k, f) in items.enumerate() {
        if k > 0 {
            out.push(b',');
        }
        f.write(&mut out, fill);
    }
    out.push(b']');
    out
}

/// A repository held for reading while a response is built.
pub(crate) struct RepoRef<'w> {
    pub world: &'w SharedWorld,
    pub repo: RwLockReadGuard<'w, Repo>,
}

impl<'w> RepoRef<'w> {
    /// Looks a repository up from `{owner}/{repo}` or `{id}` path parameters.
    pub(crate) fn find(
        world: &'w SharedWorld,
        path: &HashMap<String, String>,
    ) -> Result<RepoRef<'w>, ApiError> {
        let data = &world.data;
        let index = match (path.get("owner"), path.get("repo"), path.get("id")) {
            (Some(o), Some(r), _) => data.find(&format!("{o}/{r}")),
            (_, _, Some(id)) => id
                .parse::<u64>()
                .ok()
                .and_then(|id| data.by_id.get(&id).copied()),
            _ => None,
        }
        .ok_or_else(ApiError::not_found)?;
        let repo = data.repos[index]
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(RepoRef { world, repo })
    }

    pub(crate) fn fill(&self) -> RepoFill<'_> {
        RepoFill {
            user_json: &self.world.data.user_json,
            repo_json: &self.repo.json,
        }
    }

    /// Absolute URL of a sub-resource as GitHub's `Link` headers spell it.
    pub(crate) fn link_url(&self, origin: &Origin, rest: &str) -> String {
        format!("{}/repositories/{}/{rest}", origin.base, self.repo.id)
    }
}

/// One page of `items` (already in order) with its `Link` header.
pub(crate) fn page_of(
    r: &RepoRef<'_>,
    origin: &Origin,
    rest: &str,
    params: &Params,
    items: &[&Frag],
) -> Response {
    let per_page = params.per_page();
    let page = params.page();
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = (start + per_page).min(items.len());
    let body = json_array(items[start..end].iter().copied(), &r.fill());
    let link = page_link(
        &r.link_url(origin, rest),
        params,
        page,
        items.len(),
        per_page,
    );
    json_response(StatusCode::OK, body, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_matches_github() {
        let p = Params::new(Some("per_page=2&state=all".into()));
        assert_eq!(page_link("http://h/x", &p, 1, 2, 2), None);
        assert_eq!(
            page_link("http://h/x", &p, 1, 5, 2).unwrap(),
            "<http://h/x?per_page=2&state=all&page=2>; rel=\"next\", <http://h/x?per_page=2&state=all&page=3>; rel=\"last\""
        );
        let p = Params::new(Some("page=2&per_page=2".into()));
        assert_eq!(
            page_link("http://h/x", &p, 2, 5, 2).unwrap(),
            "<http://h/x?page=1&per_page=2>; rel=\"prev\", <http://h/x?page=3&per_page=2>; rel=\"next\", \
             <http://h/x?page=3&per_page=2>; rel=\"last\", <http://h/x?page=1&per_page=2>; rel=\"first\""
        );
        let p = Params::new(Some("page=3&per_page=2".into()));
        assert_eq!(
            page_link("http://h/x", &p, 3, 5, 2).unwrap(),
            "<http://h/x?page=2&per_page=2>; rel=\"prev\", <http://h/x?page=1&per_page=2>; rel=\"first\""
        );
    }

    #[test]
    fn per_page_is_capped() {
        assert_eq!(Params::new(Some("per_page=500".into())).per_page(), 100);
        assert_eq!(Params::new(None).per_page(), 30);
        assert_eq!(Params::new(Some("page=0".into())).page(), 1);
    }
}
