//! `GET /repos/{owner}/{repo}/contributors`: most contributions first; `204 No Content` for an
//! empty repository.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{ApiError, Origin, Params, RepoRef, json_response, page_link};
use crate::world::SharedWorld;

pub(crate) async fn list(
    State(world): State<SharedWorld>,
    Path(path): Path<std::collections::HashMap<String, String>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = RepoRef::find(&world, &path)?;
    if r.repo.commits.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let origin = Origin::new(&headers, &world.data.base);
    let params = Params::new(q);
    let all = &r.repo.contributors;
    let (per_page, page) = (params.per_page(), params.page());
    let start = (page - 1).saturating_mul(per_page).min(all.len());
    let end = (start + per_page).min(all.len());
    let users = &world.data.user_json;
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
        &r.link_url(&origin, "contributors"),
        &params,
        page,
        all.len(),
        per_page,
    );
    Ok(json_response(StatusCode::OK, out, link))
}
