//! Exact increments on an invented history API (newest first, like a branch's log): a run
//! bookmarks the head entry; the next asks a probe whether it moved (an unchanged head is one
//! 304), reads what is new through an endpoint listing what lies between two entries, and falls back to the since
//! parameter minus the lookback when the old head is no longer an ancestor.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::{Api, Reply, Req, bookmark, engine, field, schema, sync};

const DEFS: &str = r#"
[connector]
name = "history"
[settings]
api_url = { type = "string" }
[http]
base_url = "{api_url:raw}"

[[stream]]
name = "log"
path = "/log"
primary_key = ["id"]
replication = { mode = "since_param", param = "not_before", key = "/at", order = "descending", lookback_s = 600 }
paginator = { kind = "page_number", param = "page", size_param = "limit", size = 2 }

[stream.head]
params = { limit = "1" }
pointer = "/id"
path = "/log/between/{old}/{new}"
records = "/added"
status = "/relation"
ancestor = ["descendant"]
"#;

fn ts(m: i64) -> String {
    format!("2024-07-01T12:{m:02}:00Z")
}

/// The log, oldest first: (id, minute).
type Log = Arc<Mutex<Vec<(&'static str, i64)>>>;

fn entry(&(id, m): &(&str, i64)) -> Value {
    json!({"id": id, "at": ts(m)})
}

fn history(log: Log) -> impl Fn(&Req) -> Reply + Send + Sync {
    move |r| {
        let log = log.lock().unwrap().clone();
        let limit = r.n("limit").max(1);
        let page = r.n("page").max(1);
        if let Some(range) = r.path.strip_prefix("/log/between/") {
            let (old, new) = range.split_once('/').unwrap();
            let ids: Vec<&str> = log.iter().map(|e| e.0).collect();
            let (Some(o), Some(n)) = (
                ids.iter().position(|i| *i == old),
                ids.iter().position(|i| *i == new),
            ) else {
                return Reply::json(json!({"relation": "unrelated", "added": []}));
            };
            let newer: Vec<Value> = log[o + 1..=n].iter().rev().map(entry).collect();
            let items: Vec<Value> = newer
                .into_iter()
                .skip((page - 1) * limit)
                .take(limit)
                .collect();
            return Reply::json(json!({"relation": "descendant", "added": items}));
        }
        let mut rows: Vec<(&str, i64)> = log.iter().rev().cloned().collect();
        if let Some(since) = r.q("not_before") {
            rows.retain(|e| ts(e.1).as_str() >= since);
        }
        let items: Vec<Value> = rows
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .map(entry)
            .collect();
        let tag = format!(
            "\"{}\"",
            items
                .iter()
                .map(|i| i["id"].as_str().unwrap())
                .collect::<Vec<_>>()
                .join(",")
        );
        if r.header("if-none-match") == Some(tag.as_str()) {
            return Reply::status(304, "");
        }
        Reply::json(json!(items)).header("etag", tag)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_head_is_probed_the_delta_read_and_the_since_fallback_taken_after_a_rewrite() {
    let log: Log = Arc::new(Mutex::new(vec![("e1", 1), ("e2", 2), ("e3", 3)]));
    let api = Api::start(history(log.clone())).await;
    let engine = engine(
        DEFS,
        &[("log", schema(&[("id", "string"), ("at", "date-time")]))],
    );
    let config = json!({"api_url": api.url});
    let head = |state: &singer::State| {
        state
            .partition("log", &serde_json::Map::new())
            .and_then(|p| p.extra.get("head").cloned())
    };

    // 1. No head yet: the probe finds e3, the list is read whole.
    let (m, s) = sync(&engine, config.clone(), singer::State::default())
        .await
        .unwrap();
    assert_eq!(field(&m, "log", "id"), ["e3", "e2", "e1"]);
    assert_eq!(
        api.lines(),
        [
            "GET /log?limit=1",
            "GET /log?limit=2&page=1",
            "GET /log?limit=2&page=2"
        ]
    );
    assert_eq!(head(&s.state), Some(json!("e3")));
    assert_eq!(
        bookmark(&s.state.to_value(), "log", json!({})),
        Some(json!(ts(3)))
    );

    // 2. Nothing new: one probe, answered 304.
    api.clear();
    let (m, s) = sync(&engine, config.clone(), s.state).await.unwrap();
    assert_eq!(field(&m, "log", "id"), Vec::<Value>::new());
    assert_eq!(api.lines(), ["GET /log?limit=1"]);
    assert_eq!(api.requests()[0].header("if-none-match"), Some("\"e3\""));

    // 3. Three new entries: the entries between e3 and e6, paged.
    log.lock()
        .unwrap()
        .extend([("e4", 4), ("e5", 5), ("e6", 6)]);
    api.clear();
    let (m, s) = sync(&engine, config.clone(), s.state).await.unwrap();
    assert_eq!(field(&m, "log", "id"), ["e6", "e5", "e4"]);
    assert_eq!(
        api.lines(),
        [
            "GET /log?limit=1",
            "GET /log/between/e3/e6?limit=2&page=1",
            "GET /log/between/e3/e6?limit=2&page=2",
        ]
    );
    assert_eq!(head(&s.state), Some(json!("e6")));
    assert_eq!(
        bookmark(&s.state.to_value(), "log", json!({})),
        Some(json!(ts(6)))
    );

    // 4. The log is rewritten: e5 and e6 are replaced by e7. e6 is no ancestor of e7: the
    // run reads since the bookmark minus the 10-minute lookback.
    {
        let mut l = log.lock().unwrap();
        l.truncate(4);
        l.push(("e7", 7));
    }
    api.clear();
    let (m, s) = sync(&engine, config, s.state).await.unwrap();
    assert_eq!(field(&m, "log", "id"), ["e7", "e4", "e3", "e2", "e1"]);
    let since = "2024-07-01T11:56:00Z";
    assert_eq!(
        api.lines(),
        [
            "GET /log?limit=1".to_owned(),
            "GET /log/between/e6/e7?limit=2&page=1".to_owned(),
            format!("GET /log?limit=2&not_before={since}&page=1"),
            format!("GET /log?limit=2&not_before={since}&page=2"),
            format!("GET /log?limit=2&not_before={since}&page=3"),
        ]
    );
    assert_eq!(head(&s.state), Some(json!("e7")));
    assert_eq!(
        bookmark(&s.state.to_value(), "log", json!({})),
        Some(json!(ts(7)))
    );
}
