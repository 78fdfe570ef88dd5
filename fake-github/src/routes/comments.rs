//! `GET /repos/{owner}/{repo}/issues/comments` (every comment of the repository) and
//! `GET /repos/{owner}/{repo}/issues/{number}/comments`. Ascending id by default; `sort`
//! created|updated with `direction` (default asc); `since` keeps `updated_at >= since`.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{ApiError, Origin, Params, RepoRef, page_of};
use crate::data::Comment;
use crate::world::SharedWorld;

pub(crate) async fn list(
    State(world): State<SharedWorld>,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = RepoRef::find(&world, &path)?;
    let origin = Origin::new(&headers, &world.data.base);
    let params = Params::new(q);
    let since = params.time("since").map_err(|e| ApiError::validation(&e))?;
    let mut items: Vec<&Comment> = r
        .repo
        .comments
        .iter()
        .filter(|c| since.is_none_or(|s| c.updated >= s))
        .collect();
    if let Some(sort) = params.get("sort") {
        let key: fn(&Comment) -> i64 = match sort {
            "created" => |c| c.created,
            "updated" => |c| c.updated,
            _ => return Err(ApiError::validation("sort must be created or updated")),
        };
        items.sort_by_key(|c| (key(c), c.id));
        if params.descending(false) {
            items.reverse();
        }
    }
    let frags: Vec<_> = items.iter().map(|c| &c.frag).collect();
    Ok(page_of(&r, &origin, "issues/comments", &params, &frags))
}

pub(crate) async fn list_for_issue(
    State(world): State<SharedWorld>,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = RepoRef::find(&world, &path)?;
    let origin = Origin::new(&headers, &world.data.base);
    let params = Params::new(q);
    let number: u32 = path
        .get("number")
        .and_then(|n| n.parse().ok())
        .ok_or_else(ApiError::not_found)?;
    if number == 0 || number as usize > r.repo.issues.len() {
        return Err(ApiError::not_found());
    }
    let since = params.time("since").map_err(|e| ApiError::validation(&e))?;
    let frags: Vec<_> = r
        .repo
        .comments
        .iter()
        .filter(|c| c.issue == number && since.is_none_or(|s| c.updated >= s))
        .map(|c| &c.frag)
        .collect();
    Ok(page_of(
        &r,
        &origin,
        &format!("issues/{number}/comments"),
        &params,
        &frags,
    ))
}
