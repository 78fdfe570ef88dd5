//! `GET /repos/{owner}/{repo}/releases`: newest first; the endpoint takes no `sort`.

use axum::response::Response;

use super::{ApiError, RepoRequest, page_of};

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let mut releases: Vec<_> = r.repo.releases.iter().enumerate().collect();
    releases.sort_by_key(|(k, x)| std::cmp::Reverse((x.created, *k)));
    let items: Vec<_> = releases.iter().map(|(_, x)| &x.frag).collect();
    Ok(page_of(&r, &req.origin, "releases", &req.params, &items))
}
