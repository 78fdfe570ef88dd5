//! `GET /repos/{owner}/{repo}/contributors`: most contributions first; `204 No Content` for an
//! empty repository.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ApiError, RepoRequest, json_response, page_link};

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    if r.repo.commits.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let all = &r.repo.contributors;
    let (per_page, page) = (req.params.per_page(), req.params.page());
    let start = (page - 1).saturating_mul(per_page).min(all.len());
    let end = (start + per_page).min(all.len());
    let users = &req.world.data.user_json;
    let mut out = Vec::with_capacity((end - start) * 1_200 + 2);
    out.push(b'[');
    for (k, (user, n)) in all[start..end].iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        // A contributor is the user object plus `contributions`.
        let u = &users[*user as usize];
        out.extend_from_slice(&u.as_bytes()[..u.len() - 1]);
        out.extend_from_slice(format!(",\"contributions\":{n}}}").as_bytes());
    }
    out.push(b']');
    let link = page_link(
        &r.link_url(&req.origin, "contributors"),
        &req.params,
        page,
        all.len(),
        per_page,
    );
    Ok(json_response(StatusCode::OK, out, link))
}
