//! `GET /repos/{owner}/{repo}`: the repository object (`default_branch` included).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{ApiError, RepoRef, json_response};
use crate::world::SharedWorld;

pub(crate) async fn get(
    State(world): State<SharedWorld>,
    Path(path): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let r = RepoRef::find(&world, &path)?;
    Ok(json_response(
        StatusCode::OK,
        r.repo.json.clone().into_bytes(),
        None,
    ))
}
