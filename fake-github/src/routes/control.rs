//! Test controls under `/_fake/`: the ground truth, request statistics and mutations. They are
//! never faulted, delayed, rate limited or counted.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{ApiError, Params, json_response};
use crate::data::Mutation;
use crate::world::SharedWorld;

fn repo_param(params: &Params) -> Result<&str, ApiError> {
    params
        .get("repo")
        .ok_or_else(|| ApiError::validation("repo=owner/name is required"))
}

pub(crate) async fn truth(
    State(world): State<SharedWorld>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::new(q);
    let truth = world
        .truth(repo_param(&params)?)
        .ok_or_else(ApiError::not_found)?;
    let body = serde_json::to_vec(&truth)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(json_response(StatusCode::OK, body, None))
}

pub(crate) async fn stats(State(world): State<SharedWorld>) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(&world.stats())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(json_response(StatusCode::OK, body, None))
}

pub(crate) async fn mutate(
    State(world): State<SharedWorld>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::new(q);
    let repo = repo_param(&params)?;
    let m = mutation(&params)?;
    world.mutate(repo, m).map_err(|_| ApiError::not_found())?;
    let counts = world.truth(repo).map(|t| t.counts);
    let body =
        serde_json::to_vec(&serde_json::json!({"repo": repo, "applied": m, "counts": counts}))
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(json_response(StatusCode::OK, body, None))
}

/// A mutation from query parameters named like its fields (absent ones are zero or false).
fn mutation(params: &Params) -> Result<Mutation, ApiError> {
    fn num<T: std::str::FromStr + Default>(params: &Params, k: &str) -> Result<T, ApiError> {
        params.get(k).map_or(Ok(T::default()), |v| {
            v.parse()
                .map_err(|_| ApiError::validation(&format!("{k} must be a number")))
        })
    }
    let merge_commit = match params.get("merge_commit") {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(ApiError::validation("merge_commit must be true or false")),
    };
    Ok(Mutation {
        new_commits: num(params, "new_commits")?,
        update_issues: num(params, "update_issues")?,
        new_issues: num(params, "new_issues")?,
        update_pulls: num(params, "update_pulls")?,
        update_comments: num(params, "update_comments")?,
        merged_commits: num(params, "merged_commits")?,
        merged_age_s: num(params, "merged_age_s")?,
        merge_commit,
        force_push: num(params, "force_push")?,
    })
}
