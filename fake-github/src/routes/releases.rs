//! `GET /repos/{owner}/{repo}/releases`: newest first; the endpoint takes no `sort`.

use axum::response::Response;

use super::{ApiError, RepoRequest, page_of};

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let releases = r.repo.releases_newest_first();
    let items: Vec<_> = releases.iter().map(|x| &x.frag).collect();
    Ok(page_of(&r, &req.origin, "releases", &req.params, &items))
}
