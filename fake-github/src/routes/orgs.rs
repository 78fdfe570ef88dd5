//! `GET /orgs/{org}/repos`: repositories of a declared organization. `sort`
//! created|updated|pushed|full_name (default created); `direction` defaults to asc for
//! full_name, desc otherwise.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{ApiError, Origin, Params, json_response, page_link};
use crate::world::SharedWorld;

pub(crate) async fn list(
    State(world): State<SharedWorld>,
    Path(org): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = &world.data;
    if !data.orgs.contains_key(&org.to_ascii_lowercase()) {
        return Err(ApiError::not_found());
    }
    let origin = Origin::new(&headers, &data.base);
    let params = Params::new(q);
    let sort = params.get("sort").unwrap_or("created");
    let guards: Vec<_> = data
        .repos
        .iter()
        .map(|r| r.read().unwrap_or_else(std::sync::PoisonError::into_inner))
        .filter(|r| r.owner.eq_ignore_ascii_case(&org))
        .collect();
    let mut repos: Vec<_> = guards.iter().map(|g| &**g).collect();
    match sort {
        "full_name" => repos.sort_by_key(|r| r.full_name.to_ascii_lowercase()),
        "updated" => repos.sort_by_key(|r| (r.clock, r.id)),
        "pushed" => repos.sort_by_key(|r| (r.commits.last().map_or(r.created, |c| c.pushed), r.id)),
        "created" => repos.sort_by_key(|r| (r.created, r.id)),
        _ => {
            return Err(ApiError::validation(
                "sort must be created, updated, pushed or full_name",
            ));
        }
    }
    if params.descending(sort != "full_name") {
        repos.reverse();
    }
    let (per_page, page) = (params.per_page(), params.page());
    let start = (page - 1).saturating_mul(per_page).min(repos.len());
    let end = (start + per_page).min(repos.len());
    let mut out = vec![b'['];
    for (k, r) in repos[start..end].iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r.json.as_bytes());
    }
    out.push(b']');
    let url = format!("{}/orgs/{org}/repos", origin.base);
    Ok(json_response(
        StatusCode::OK,
        out,
        page_link(&url, &params, page, repos.len(), per_page),
    ))
}
