//! `GET /repos/{owner}/{repo}/commits`: newest first; `sha` (branch or commit), `since`/`until`
//! on the committer date, `author` (login or email); 409 on an empty repository.

use axum::http::StatusCode;
use axum::response::Response;

use super::{ApiError, RepoRequest, json_array, json_response, page_link};

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let commits = &r.repo.commits;
    if commits.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Git Repository is empty.",
        ));
    }
    let bad = |e: String| ApiError::new(StatusCode::BAD_REQUEST, e);
    let since = req.params.time("since").map_err(bad)?;
    let until = req.params.time("until").map_err(bad)?;
    // The branch is linear: history from a commit is every commit up to it.
    let head = match req.params.get("sha") {
        None => commits.len(),
        Some(s) if s == r.repo.default_branch || s == "HEAD" => commits.len(),
        Some(s) => match commits
            .iter()
            .rposition(|c| s.len() >= 7 && c.sha.starts_with(s))
        {
            Some(i) => i + 1,
            None => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("No commit found for SHA: {s}"),
                ));
            }
        },
    };
    let lo = since.map_or(0, |t| commits.partition_point(|c| c.date < t));
    let hi = until
        .map_or(head, |t| commits.partition_point(|c| c.date <= t))
        .min(head);
    let range = &commits[lo..hi.max(lo)];
    let per_page = req.params.per_page();
    let page = req.params.page();
    let link = |total: usize| {
        page_link(
            &r.link_url(&req.origin, "commits"),
            &req.params,
            page,
            total,
            per_page,
        )
    };
    if let Some(author) = req.params.get("author") {
        let users = &req.world.data.users;
        let picked: Vec<_> = range
            .iter()
            .rev()
            .filter(|c| {
                c.author_email == author
                    || c.author
                        .is_some_and(|u| users[u as usize].login.eq_ignore_ascii_case(author))
            })
            .collect();
        let start = (page - 1).saturating_mul(per_page).min(picked.len());
        let end = (start + per_page).min(picked.len());
        let body = json_array(picked[start..end].iter().map(|c| &c.frag), &r.fill());
        return Ok(json_response(StatusCode::OK, body, link(picked.len())));
    }
    // Newest first: page k holds range[len - k*per_page ..][..per_page] reversed.
    let total = range.len();
    let skip = (page - 1).saturating_mul(per_page).min(total);
    let end = total - skip;
    let start = end.saturating_sub(per_page);
    let body = json_array(range[start..end].iter().rev().map(|c| &c.frag), &r.fill());
    Ok(json_response(StatusCode::OK, body, link(total)))
}
