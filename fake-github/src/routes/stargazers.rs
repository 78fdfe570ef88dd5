//! `GET /repos/{owner}/{repo}/stargazers`: oldest star first, no `sort`; users, or
//! `{starred_at, user}` objects with `Accept: application/vnd.github.star+json`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::{ApiError, Origin, Params, RepoRef, json_response, page_link};
use crate::util::fmt_ts;
use crate::world::SharedWorld;

pub(crate) async fn list(
    State(world): State<SharedWorld>,
    Path(path): Path<std::collections::HashMap<String, String>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = RepoRef::find(&world, &path)?;
    let origin = Origin::new(&headers, &world.data.base);
    let params = Params::new(q);
    let with_dates = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        // GitHub honours the versioned form too, which older clients (singer-io) send.
        .any(|v| {
            v.contains("application/vnd.github.star+json")
                || v.contains("application/vnd.github.v3.star+json")
        });
    let stars = &r.repo.stars;
    let (per_page, page) = (params.per_page(), params.page());
    let start = (page - 1).saturating_mul(per_page).min(stars.len());
    let end = (start + per_page).min(stars.len());
    let users = &world.data.user_json;
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
        &r.link_url(&origin, "stargazers"),
        &params,
        page,
        stars.len(),
        per_page,
    );
    Ok(json_response(StatusCode::OK, out, link))
}
