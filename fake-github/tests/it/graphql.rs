//! `POST /graphql`: the repository lookup MeltanoLabs tap-github makes before it syncs.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::support::{get, send, world};

async fn graphql(app: &axum::Router, query: &str) -> crate::support::Resp {
    let body = json!({ "query": query }).to_string();
    let req = Request::post("/graphql")
        .header("user-agent", "tapline-tests")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    send(app, req).await
}

#[tokio::test]
async fn answers_each_repository_by_alias_with_its_rest_id() {
    let (_, app) = world();
    let id = get(&app, "/repos/octo/app").await.json()["id"].clone();
    let r = graphql(
        &app,
        r#"query {repo0: repository(name: "APP", owner: "octo") { nameWithOwner databaseId } repo1: repository(name: "gone", owner: "octo") { nameWithOwner databaseId } rateLimit { cost } }"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(
        body["data"]["repo0"],
        json!({"nameWithOwner": "octo/app", "databaseId": id})
    );
    assert_eq!(body["data"]["repo1"], serde_json::Value::Null);
    assert_eq!(body["data"]["rateLimit"]["cost"], 1);
    assert_eq!(body["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(body["errors"][0]["path"], json!(["repo1"]));
}

#[tokio::test]
async fn other_queries_are_refused() {
    let (_, app) = world();
    let r = graphql(&app, "query { viewer { login } }").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["message"].as_str().unwrap().contains("repository"));
}
