//! `GET /repos/{owner}/{repo}/issues/comments` (every comment of the repository) and
//! `GET /repos/{owner}/{repo}/issues/{number}/comments`. Ascending id by default; `sort`
//! created|updated with `direction` (default asc); `since` keeps `updated_at >= since`.

use axum::response::Response;

use super::{ApiError, RepoRequest, page_of};
use crate::data::Comment;

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let since = req
        .params
        .time("since")
        .map_err(|e| ApiError::validation(&e))?;
    let mut items: Vec<&Comment> = r
        .repo
        .comments
        .iter()
        .filter(|c| since.is_none_or(|s| c.updated >= s))
        .collect();
    if let Some(sort) = req.params.get("sort") {
        let key: fn(&Comment) -> i64 = match sort {
            "created" => |c| c.created,
            "updated" => |c| c.updated,
            _ => return Err(ApiError::validation("sort must be created or updated")),
        };
        items.sort_by_key(|c| (key(c), c.id));
        if req.params.descending(false) {
            items.reverse();
        }
    }
    let frags: Vec<_> = items.iter().map(|c| &c.frag).collect();
    Ok(page_of(
        &r,
        &req.origin,
        "issues/comments",
        &req.params,
        &frags,
    ))
}

pub(crate) async fn list_for_issue(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let number: u32 = req
        .path
        .get("number")
        .and_then(|n| n.parse().ok())
        .ok_or_else(ApiError::not_found)?;
    if number == 0 || number as usize > r.repo.issues.len() {
        return Err(ApiError::not_found());
    }
    let since = req
        .params
        .time("since")
        .map_err(|e| ApiError::validation(&e))?;
    let frags: Vec<_> = r
        .repo
        .comments
        .iter()
        .filter(|c| c.issue == number && since.is_none_or(|s| c.updated >= s))
        .map(|c| &c.frag)
        .collect();
    Ok(page_of(
        &r,
        &req.origin,
        &format!("issues/{number}/comments"),
        &req.params,
        &frags,
    ))
}
