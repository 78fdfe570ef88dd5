//! The declarative promise: a stream defined only in a test definitions file (with its schema
//! file beside it) syncs from fixture pages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::support::{records, serve, sync};

/// The query strings the fixture server saw.
type Seen = Arc<Mutex<Vec<BTreeMap<String, String>>>>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Serves `fixtures/widgets/page{N}.json` for shop `acme` with a `Link` to the next page; any
/// other shop is 404. Records the query of each request.
async fn widgets(
    State(seen): State<Seen>,
    UrlPath(shop): UrlPath<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> impl IntoResponse {
    seen.lock().unwrap().push(q.clone());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if shop != "acme" {
        return (StatusCode::NOT_FOUND, HeaderMap::new(), "{}".to_owned());
    }
    let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let body =
        std::fs::read_to_string(fixtures().join(format!("widgets/page{page}.json"))).unwrap();
    let mut h = HeaderMap::new();
    if page == 1 {
        h.insert(
            header::LINK,
            format!("<http://{host}/shops/acme/widgets?limit=2&page=2>; rel=\"next\"")
                .parse()
                .unwrap(),
        );
    }
    (StatusCode::OK, h, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_defined_only_in_a_test_file_syncs() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/shops/{shop}/widgets", axum::routing::get(widgets))
        .with_state(seen.clone());
    let api = serve(app).await;
    let engine = tap_rest::connector::load(&fixtures().join("extra_streams.toml"), &[]).unwrap();
    let catalog = engine.discover();
    assert_eq!(
        catalog.streams[0].key_properties(),
        ["_sdc_shop", "widget_id"]
    );
    let config = json!({"api_url": api, "shops": ["acme", "closed"], "max_concurrency": 2});
    let (messages, summary) = sync(&engine, config.clone(), singer::State::default())
        .await
        .unwrap();
    assert_eq!(summary.records["widgets"], 3);
    assert_eq!(
        summary.skipped,
        ["shop closed"],
        "a 404 the file marks as a warning"
    );
    assert_eq!(messages[0]["type"], "SCHEMA");
    let ids: Vec<_> = records(&messages, "widgets")
        .iter()
        .map(|r| (r["_sdc_shop"].clone(), r["widget_id"].clone()))
        .collect();
    assert_eq!(
        ids,
        [
            ("acme".into(), 1.into()),
            ("acme".into(), 2.into()),
            ("acme".into(), 3.into())
        ]
    );
    let state = summary
        .state
        .partition("widgets", json!({"shop": "acme"}).as_object().unwrap())
        .unwrap();
    assert_eq!(
        state.replication_key_value,
        Some(Value::from("2024-01-03T00:00:00Z"))
    );
    assert_eq!(state.replication_key.as_deref(), Some("changed"));

    // The next run asks with the bookmark.
    seen.lock().unwrap().clear();
    sync(&engine, config, summary.state.clone()).await.unwrap();
    let queries = seen.lock().unwrap().clone();
    assert!(
        queries
            .iter()
            .any(|q| q.get("changed_since").map(String::as_str) == Some("2024-01-03T00:00:00Z")),
        "{queries:?}"
    );
}
