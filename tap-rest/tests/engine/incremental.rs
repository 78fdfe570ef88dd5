//! Every incremental mode on an invented notes API: a since parameter (ascending and
//! descending, by name or as a `{bookmark:…}` placeholder in a query string, in a declared time
//! zone, in a POST body), early stop, client-side filtering, an end parameter, lookback, ETags;
//! and the record pipeline (filters, unknown properties kept) and path encoding.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::{Api, Reply, Req, bookmark, engine, field, schema, states, sync};

/// `2024-03-01T10:00:00Z` plus `m` minutes.
fn ts(m: i64) -> String {
    format!("2024-03-01T{:02}:{:02}:00Z", 10 + m / 60, m % 60)
}

/// The notes the API holds: (id, minute of `changed`).
type Notes = Arc<Mutex<Vec<(u64, i64)>>>;

fn notes(items: &[(u64, i64)]) -> Notes {
    Arc::new(Mutex::new(items.to_vec()))
}

/// How the invented API answers `GET /notes`.
#[derive(Clone, Copy)]
struct Style {
    /// The parameter it filters on (inclusive), if any.
    since: Option<&'static str>,
    /// Newest first.
    descending: bool,
}

/// The notes API: sorted on `changed` (then id), filtered by `style.since`, paged by `page` and
/// `size` (default 2), each page with an ETag of its content (a matching If-None-Match is a
/// 304).
fn notes_api(list: Notes, style: Style) -> impl Fn(&Req) -> Reply + Send + Sync + 'static {
    move |r| {
        let mut all = list.lock().unwrap().clone();
        all.sort_by_key(|&(id, m)| (m, id));
        if style.descending {
            all.reverse();
        }
        if let Some(since) = style.since.and_then(|p| r.q(p)) {
            all.retain(|&(_, m)| ts(m).as_str() >= since);
        }
        let size = r.q("size").map_or(2, |s| s.parse().unwrap());
        let page = r.n("page").max(1);
        let rows: Vec<Value> = all
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|&(id, m)| json!({"id": id, "changed": ts(m)}))
            .collect();
        let tag = format!(
            "\"{}\"",
            rows.iter()
                .map(|r| format!("{}@{}", r["id"], r["changed"]))
                .collect::<Vec<_>>()
                .join(",")
        );
        if r.header("if-none-match") == Some(tag.as_str()) {
            return Reply::status(304, "");
        }
        Reply::json(json!(rows)).header("etag", tag)
    }
}

fn defs(replication: &str, extra: &str) -> String {
    r#"
[connector]
name = "notes"
[settings]
api_url = { type = "string" }
tz = { type = "string" }
owner = { type = "string" }
[http]
base_url = "{api_url:raw}"
[[stream]]
name = "notes"
path = "/notes"
primary_key = ["id"]
replication = REPLICATION
paginator = { kind = "page_number", param = "page", size_param = "size", size = 2 }
EXTRA
"#
    .replace("REPLICATION", replication)
    .replace("EXTRA", extra)
}

fn notes_schema() -> Value {
    schema(&[("id", "integer"), ("changed", "date-time")])
}

/// One run of `defs` with `config` (plus the API's URL) from `state`: the ids written, the
/// final bookmark of the unpartitioned `notes`, the messages.
async fn run(
    api: &Api,
    defs: &str,
    config: Value,
    state: &singer::State,
) -> (Vec<u64>, Option<Value>, Vec<Value>, singer::State) {
    let engine = engine(defs, &[("notes", notes_schema())]);
    let mut config = config;
    config["api_url"] = json!(api.url);
    let (messages, summary) = sync(&engine, config, state.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ids = field(&messages, "notes", "id")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let mark = bookmark(&summary.state.to_value(), "notes", json!({}));
    (ids, mark, messages, summary.state)
}

const ASCENDING: &str =
    r#"{ mode = "since_param", param = "changed_since", key = "/changed", order = "ascending" }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_ascending_starts_at_the_start_date_then_at_the_bookmark() {
    let list = notes(&[(1, 10), (2, 11), (3, 12), (4, 13), (5, 14)]);
    let api = Api::start(notes_api(
        list.clone(),
        Style {
            since: Some("changed_since"),
            descending: false,
        },
    ))
    .await;
    let d = defs(ASCENDING, "");
    let config = json!({"start_date": ts(11)});
    let (ids, mark, messages, state) =
        run(&api, &d, config.clone(), &singer::State::default()).await;
    assert_eq!(ids, [2, 3, 4, 5]);
    assert_eq!(mark, Some(json!(ts(14))));
    let since = ts(11);
    assert_eq!(
        api.lines(),
        [
            format!("GET /notes?changed_since={since}&page=1&size=2"),
            format!("GET /notes?changed_since={since}&page=2&size=2"),
            format!("GET /notes?changed_since={since}&page=3&size=2"),
        ]
    );
    // Bookmarked page by page, behind the records.
    let marks: Vec<Option<Value>> = states(&messages)
        .iter()
        .map(|s| bookmark(s, "notes", json!({})))
        .collect();
    assert_eq!(
        marks,
        [
            Some(json!(ts(12))),
            Some(json!(ts(14))),
            Some(json!(ts(14))),
            Some(json!(ts(14)))
        ]
    );

    // Note 2 changes, note 6 appears: the next run asks from the bookmark (inclusive).
    list.lock().unwrap()[1].1 = 15;
    list.lock().unwrap().push((6, 16));
    api.clear();
    let (ids, mark, ..) = run(&api, &d, config, &state).await;
    assert_eq!(ids, [5, 2, 6]);
    assert_eq!(mark, Some(json!(ts(16))));
    let since = ts(14);
    assert_eq!(
        api.lines(),
        [
            format!("GET /notes?changed_since={since}&page=1&size=2"),
            format!("GET /notes?changed_since={since}&page=2&size=2"),
        ]
    );
}

/// An API that takes a query-language filter and answers every note, logging the filters.
fn query_api(list: Notes) -> impl Fn(&Req) -> Reply + Send + Sync + 'static {
    move |r| {
        if r.path == "/me" {
            return Reply::json(json!({"account": {"zone": "Asia/Tokyo"}}));
        }
        let rows: Vec<Value> = list
            .lock()
            .unwrap()
            .iter()
            .map(|&(id, m)| json!({"id": id, "changed": ts(m)}))
            .collect();
        Reply::json(json!({"issues": rows}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bookmark_placeholder_inside_a_query_string_in_a_declared_zone() {
    // The start date 13:45 UTC is 14:45 in Paris, 08:45 in New York, 22:45 in Tokyo; the
    // bookmark after the first run (10:50 UTC) is written the same way in the second.
    for (zone, config, start, next) in [
        (
            r#"{ name = "Europe/Paris" }"#,
            json!({}),
            "2024/01/31 14:45",
            "2024/03/01 11:50",
        ),
        (
            r#"{ setting = "tz" }"#,
            json!({"tz": "America/New_York"}),
            "2024/01/31 08:45",
            "2024/03/01 05:50",
        ),
        (
            r#"{ request = { path = "/me", pointer = "/account/zone" } }"#,
            json!({}),
            "2024/01/31 22:45",
            "2024/03/01 19:50",
        ),
    ] {
        let list = notes(&[(1, 40), (2, 50)]);
        let api = Api::start(query_api(list)).await;
        let replication = format!(
            r#"{{ mode = "since_param", key = "/changed", order = "ascending", timezone = {zone} }}"#
        );
        let d = defs(
            &replication,
            "records = \"/issues\"\nparams = { filter = 'changed >= \"{bookmark:%Y/%m/%d %H:%M}\" order by changed' }",
        )
        .replace(
            "paginator = { kind = \"page_number\", param = \"page\", size_param = \"size\", size = 2 }",
            "paginator = { kind = \"none\" }",
        );
        let mut config = config;
        config["start_date"] = json!("2024-01-31T13:45:00Z");
        let (ids, mark, _, state) = run(&api, &d, config.clone(), &singer::State::default()).await;
        assert_eq!(ids, [1, 2], "{zone}");
        assert_eq!(mark, Some(json!(ts(50))), "{zone}");
        run(&api, &d, config, &state).await;
        let filters: Vec<String> = api
            .requests()
            .iter()
            .map(|r| match r.q("filter") {
                Some(f) => format!("{} {f}", r.path),
                None => r.line(),
            })
            .collect();
        let mut expected = vec![
            format!("/notes changed >= \"{start}\" order by changed"),
            format!("/notes changed >= \"{next}\" order by changed"),
        ];
        if zone.contains("request") {
            // The zone is asked once per run, before the stream's first request.
            expected.insert(1, "GET /me".into());
            expected.insert(0, "GET /me".into());
        }
        assert_eq!(filters, expected, "{zone}");
    }
}
