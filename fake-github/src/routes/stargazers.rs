//! `GET /repos/{owner}/{repo}/stargazers`: oldest star first, no `sort`; users, or
//! `{starred_at, user}` objects with `Accept: application/vnd.github.star+json`.

use axum::http::{StatusCode, header};
use axum::response::Response;

use super::{ApiError, RepoRequest, json_response, page_link};
use crate::util::fmt_ts;

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let with_dates = req
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        // GitHub honours the versioned form too, which older clients (singer-io) send.
        .any(|v| {
            v.contains("application/vnd.github.star+json")
                || v.contains("application/vnd.github.v3.star+json")
        });
    let stars = &r.repo.stars;
    let (per_page, page) = (req.params.per_page(), req.params.page());
    let start = (page - 1).saturating_mul(per_page).min(stars.len());
    let end = (start + per_page).min(stars.len());
    let users = &req.world.data.user_json;
    let mut out = Vec::with_capacity((end - start) * 1_200 + 2);
    out.push(b'[');
    for (k, s) in stars[start..end].iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        if with_dates {
            out.extend_from_slice(
                format!("{{\"starred_at\":\"{}\",\"user\":", fmt_ts(s.at)).as_bytes(),
            );
            out.extend_from_slice(users[s.user as usize].as_bytes());
            out.push(b'}');
        } else {
            out.extend_from_slice(users[s.user as usize].as_bytes());
        }
    }
    out.push(b']');
    let link = page_link(
        &r.link_url(&req.origin, "stargazers"),
        &req.params,
        page,
        stars.len(),
        per_page,
    );
    Ok(json_response(StatusCode::OK, out, link))
}
