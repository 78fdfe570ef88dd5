//! The declarative promise: a stream defined only in a test definitions file syncs from fixture
//! pages, and the engine's source names neither GitHub nor any stream of streams.toml.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::Value;
use tap_github::engine::{Definitions, Engine, SyncOptions};

use crate::support::{Sink, test_http};

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let defs = Definitions::parse(
        &std::fs::read_to_string(fixtures().join("extra_streams.toml")).unwrap(),
    )
    .unwrap();
    let schema = std::fs::read_to_string(fixtures().join("widgets.json")).unwrap();
    let engine = Engine::new(defs, &[("widgets", schema.as_str())]).unwrap();
    let catalog = engine.discover();
    assert_eq!(
        catalog.streams[0].key_properties(),
        ["_sdc_shop", "widget_id"]
    );

    let opts = |state: singer::State| SyncOptions {
        http: test_http(&format!("http://{addr}")),
        settings: BTreeMap::from([(
            "shops".to_owned(),
            vec!["acme".to_owned(), "closed".to_owned()],
        )]),
        start_date: None,
        lookback: Default::default(),
        max_concurrency: 2,
        catalog: None,
        state,
    };
    let sink = Sink::default();
    let summary = engine
        .sync(opts(singer::State::default()), sink.clone())
        .await
        .unwrap();
    assert_eq!(summary.records["widgets"], 3);
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let messages: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(messages[0]["type"], "SCHEMA");
    let ids: Vec<_> = messages
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .map(|m| {
            (
                m["record"]["_sdc_shop"].clone(),
                m["record"]["widget_id"].clone(),
            )
        })
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
        .partition(
            "widgets",
            serde_json::json!({"shop": "acme"}).as_object().unwrap(),
        )
        .unwrap();
    assert_eq!(
        state.replication_key_value,
        Some(Value::from("2024-01-03T00:00:00Z"))
    );
    assert_eq!(state.replication_key.as_deref(), Some("changed"));

    // The next run asks with the bookmark.
    seen.lock().unwrap().clear();
    engine
        .sync(opts(summary.state.clone()), Sink::default())
        .await
        .unwrap();
    let queries = seen.lock().unwrap().clone();
    assert!(
        queries
            .iter()
            .any(|q| q.get("changed_since").map(String::as_str) == Some("2024-01-03T00:00:00Z")),
        "{queries:?}"
    );
}

#[test]
fn engine_source_names_no_api_and_no_stream() {
    let defs = Definitions::parse(tap_github::STREAMS_TOML).unwrap();
    let mut forbidden: Vec<String> = defs.streams.iter().map(|s| s.name.to_lowercase()).collect();
    forbidden.push("github".into());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut checked = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            for word in &forbidden {
                assert!(
                    !text.contains(word.as_str()),
                    "{} mentions `{word}`",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "the engine's files were found");
}
