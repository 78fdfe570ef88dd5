//! Re-anchoring on an invented API served in-test: an ascending list paged by offset whose items
//! move to its end when they change. Each page is asked from the last value seen; a page that
//! holds one value only is paged by offset, and a change inside such a group is noticed and the
//! group read again. Without re-anchoring the same run loses an item (the test shows both).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::support::{engine, serve, sync as run};

const DEFS: &str = r#"
[connector]
name = "items"
[settings]
api_url = { type = "string" }
[http]
base_url = "{api_url:raw}"
[[stream]]
name = "items"
path = "/items"
params = { limit = "2" }
primary_key = ["id"]
replication = { mode = "since_param", param = "since", key = "/updated", order = "ascending", reanchor = true }
"#;

fn schema() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "integer"}, "updated": {"type": "string", "format": "date-time"}}})
}

/// The list: (id, minute of `updated`), plus items to move to the end before given requests.
#[derive(Default)]
struct List {
    items: Vec<(u32, i64)>,
    /// (request number, item id): before answering that request, the item is updated.
    moves: Vec<(usize, u32)>,
    requests: usize,
    queries: Vec<BTreeMap<String, String>>,
}

type Shared = Arc<Mutex<List>>;

fn ts(minute: i64) -> String {
    format!("2024-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

fn minute(text: &str) -> i64 {
    let h: i64 = text[11..13].parse().unwrap();
    let m: i64 = text[14..16].parse().unwrap();
    h * 60 + m
}

async fn items(
    State(list): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let mut l = list.lock().unwrap();
    l.requests += 1;
    l.queries.push(q.clone());
    let n = l.requests;
    let moving: Vec<u32> = l.moves.iter().filter(|m| m.0 == n).map(|m| m.1).collect();
    for id in moving {
        let newest = l.items.iter().map(|i| i.1).max().unwrap_or(0);
        if let Some(item) = l.items.iter_mut().find(|i| i.0 == id) {
            item.1 = newest + 1;
        }
    }
    let mut sorted: Vec<(u32, i64)> = l.items.clone();
    sorted.sort_by_key(|&(id, m)| (m, id));
    let since = q.get("since").map_or(i64::MIN, |s| minute(s));
    let matching: Vec<(u32, i64)> = sorted.into_iter().filter(|i| i.1 >= since).collect();
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let limit: usize = q.get("limit").and_then(|o| o.parse().ok()).unwrap_or(2);
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, m)| json!({"id": id, "updated": ts(*m)}))
        .collect();
    let mut h = HeaderMap::new();
    if offset + limit < matching.len() {
        let host = headers[header::HOST].to_str().unwrap().to_owned();
        let mut next = q.clone();
        next.insert("offset".into(), (offset + limit).to_string());
        let query: String = form_query(&next);
        h.insert(
            header::LINK,
            format!("<http://{host}/items?{query}>; rel=\"next\"")
                .parse()
                .unwrap(),
        );
    }
    (h, Value::Array(page).to_string())
}

fn form_query(q: &BTreeMap<String, String>) -> String {
    q.iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A")))
        .collect::<Vec<_>>()
        .join("&")
}

/// Serves `list` and syncs it once (re-anchoring on or off); returns the messages.
async fn sync(list: Shared, reanchor: bool) -> Vec<Value> {
    let app = axum::Router::new()
        .route("/items", axum::routing::get(items))
        .with_state(list);
    let api = serve(app).await;
    let text = if reanchor {
        DEFS.to_owned()
    } else {
        DEFS.replace("reanchor = true", "reanchor = false")
    };
    let engine = engine(&text, &[("items", schema())]);
    let config = json!({"api_url": api, "max_concurrency": 1});
    run(&engine, config, singer::State::default())
        .await
        .unwrap()
        .0
}

fn ids(messages: &[Value]) -> Vec<u64> {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"]["id"].as_u64().unwrap())
        .collect()
}

fn bookmarks(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m["type"] == "STATE")
        .filter_map(|m| {
            m["value"]["bookmarks"]["items"]["partitions"][0]["replication_key_value"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// Ids 1..=5 at minute 10, 6 at 11, 7 at 12.
fn tied_list(moves: Vec<(usize, u32)>) -> Shared {
    let mut items: Vec<(u32, i64)> = (1..=5).map(|id| (id, 10)).collect();
    items.extend([(6, 11), (7, 12)]);
    Arc::new(Mutex::new(List {
        items,
        moves,
        ..List::default()
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_page_starts_from_the_last_value_and_repeats_nothing() {
    let items: Vec<(u32, i64)> = (1..=9).map(|id| (id, i64::from(id) * 3 / 2)).collect();
    let list = Arc::new(Mutex::new(List {
        items,
        ..List::default()
    }));
    let messages = sync(list.clone(), true).await;
    assert_eq!(ids(&messages), (1..=9).collect::<Vec<u64>>());
    let queries = list.lock().unwrap().queries.clone();
    assert!(
        queries.iter().all(|q| !q.contains_key("offset")),
        "no offset is followed while the value moves on: {queries:?}"
    );
    let since: Vec<&str> = queries
        .iter()
        .filter_map(|q| q.get("since").map(String::as_str))
        .collect();
    assert_eq!(since.len(), queries.len() - 1, "every page after the first");
    let marks = bookmarks(&messages);
    assert!(marks.windows(2).all(|w| w[0] <= w[1]), "{marks:?}");
    assert_eq!(marks.last().map(String::as_str), Some(ts(13).as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_one_value_is_paged_within_it() {
    let messages = sync(tied_list(vec![]), true).await;
    assert_eq!(ids(&messages), (1..=7).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_inside_a_group_paged_by_offset_is_read_again() {
    // Request 1 gives ids 1, 2 (minute 10); request 2 (since=10) the same page, all one value:
    // the group is then paged by offset. Before request 3, id 1 moves to the end, so offset 2 of
    // the group skips id 3; the engine sees id 1 again later and reads the group once more.
    let list = tied_list(vec![(3, 1)]);
    let messages = sync(list.clone(), true).await;
    let got: BTreeSet<u64> = ids(&messages).into_iter().collect();
    assert_eq!(got, (1..=7).collect::<BTreeSet<u64>>());
    // While the group was unconfirmed the bookmark stayed at its value; it moves to the moved
    // item's new value only when the partition is done.
    let marks = bookmarks(&messages);
    let settled = marks.iter().position(|m| *m == ts(13)).unwrap();
    assert!(marks[settled..].iter().all(|m| *m == ts(13)), "{marks:?}");
    assert!(marks[..settled].iter().all(|m| *m == ts(10)), "{marks:?}");

    // The same run without re-anchoring loses id 3 for good.
    let list = tied_list(vec![(2, 1)]);
    let got: BTreeSet<u64> = ids(&sync(list, false).await).into_iter().collect();
    assert!(!got.contains(&3), "the shift skips id 3: {got:?}");
}
