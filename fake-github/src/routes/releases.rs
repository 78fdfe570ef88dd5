//! `GET /repos/{owner}/{repo}/releases`: newest first; the endpoint takes no `sort`.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{ApiError, Origin, Params, RepoRef, page_of};
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
    let mut releases: Vec<_> = r.repo.releases.iter().enumerate().collect();
    releases.sort_by_key(|(k, x)| std::cmp::Reverse((x.created, *k)));
    let items: Vec<_> = releases.iter().map(|(_, x)| &x.frag).collect();
    Ok(page_of(&r, &origin, "releases", &params, &items))
}
