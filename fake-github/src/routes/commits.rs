//! `GET /repos/{owner}/{repo}/commits`: the branch newest first (`git log` of a linear history);
//! `sha` (branch, `HEAD` or commit), `since`/`until` on the committer date (which is not sorted
//! along the branch), `author` (login or email); 409 on an empty repository.

use axum::http::StatusCode;
use axum::response::Response;

use super::{ApiError, RepoRequest, json_array, json_response, page_link};
use crate::data::Commit;

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
    // History from a commit is every commit before it on the branch.
    let head = match req.params.get("sha") {
        None => commits.len(),
        Some(s) => match r.repo.position(s) {
            Some(i) => i + 1,
            None => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("No commit found for SHA: {s}"),
                ));
            }
        },
    };
    let users = &req.world.data.users;
    let author = req.params.get("author");
    // Committer dates are not sorted along the branch (merged branches bring old commits), so
    // `since`/`until` look at every commit.
    let keep = |c: &Commit| {
        since.is_none_or(|t| c.date >= t)
            && until.is_none_or(|t| c.date <= t)
            && author.is_none_or(|a| {
                c.author_email == a
                    || c.author
                        .is_some_and(|u| users[u as usize].login.eq_ignore_ascii_case(a))
            })
    };
    let (per_page, page) = (req.params.per_page(), req.params.page());
    let skip = (page - 1).saturating_mul(per_page);
    let (body, total) = if since.is_none() && until.is_none() && author.is_none() {
        // Unfiltered: page k is a slice of the branch, reversed; no per-request copy of it.
        let end = head - skip.min(head);
        let start = end.saturating_sub(per_page);
        let items = commits[start..end].iter().rev().map(|c| &c.frag);
        (json_array(items, &r.fill()), head)
    } else {
        let picked: Vec<&Commit> = commits[..head].iter().rev().filter(|c| keep(c)).collect();
        let start = skip.min(picked.len());
        let end = (start + per_page).min(picked.len());
        let items = picked[start..end].iter().map(|c| &c.frag);
        (json_array(items, &r.fill()), picked.len())
    };
    let link = page_link(
        &r.link_url(&req.origin, "commits"),
        &req.params,
        page,
        total,
        per_page,
    );
    Ok(json_response(StatusCode::OK, body, link))
}
