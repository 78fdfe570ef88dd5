//! `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`: the reviews of one pull request,
//! oldest first, paged by number. 404 when the number is not a pull request's.

use axum::response::Response;

use super::{ApiError, RepoRequest, page_of};

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let number: u32 = req
        .path
        .get("pull_number")
        .and_then(|n| n.parse().ok())
        .ok_or_else(ApiError::not_found)?;
    let is_pr = number
        .checked_sub(1)
        .and_then(|k| r.repo.issues.get(k as usize))
        .is_some_and(|i| i.is_pr());
    if !is_pr {
        return Err(ApiError::not_found());
    }
    let frags: Vec<_> = r.repo.reviews_of(number).map(|x| &x.frag).collect();
    Ok(page_of(
        &r,
        &req.origin,
        &format!("pulls/{number}/reviews"),
        &req.params,
        &frags,
    ))
}
