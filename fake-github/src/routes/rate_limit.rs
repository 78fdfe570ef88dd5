//! `GET /rate_limit`: the current primary window; this request itself uses no quota.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::json_response;
use crate::util::now_secs;
use crate::world::SharedWorld;

pub(crate) async fn get(State(world): State<SharedWorld>) -> Response {
    let w = {
        let mut rt = world.runtime();
        rt.rate.roll(now_secs());
        rt.rate
    };
    let core = json!({"limit": w.limit, "remaining": w.remaining(), "reset": w.reset, "used": w.used, "resource": "core"});
    let other = |limit: u64, resource: &str| json!({"limit": limit, "remaining": limit, "reset": w.reset, "used": 0, "resource": resource});
    let body = json!({
        "resources": {
            "core": core,
            "search": other(30, "search"),
            "graphql": other(5_000, "graphql"),
            "integration_manifest": other(5_000, "integration_manifest"),
            "code_search": other(10, "code_search"),
        },
        "rate": core,
    });
    json_response(StatusCode::OK, body.to_string().into_bytes(), None)
}
