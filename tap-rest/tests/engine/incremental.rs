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
                .map(|r| format!("{}@{}", r["id"], r["changed"].as_str().unwrap()))
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
        Reply::json(json!({"matches": rows}))
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
            "records = \"/matches\"\nparams = { filter = 'changed >= \"{bookmark:%Y/%m/%d %H:%M}\" order by changed' }",
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

fn marks(messages: &[Value]) -> Vec<Option<Value>> {
    states(messages)
        .iter()
        .map(|s| bookmark(s, "notes", json!({})))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_descending_bookmarks_once_the_partition_is_done() {
    let list = notes(&[(1, 10), (2, 11), (3, 12), (4, 13), (5, 14)]);
    let style = Style {
        since: Some("newer_than"),
        descending: true,
    };
    let api = Api::start(notes_api(list.clone(), style)).await;
    let d = defs(
        r#"{ mode = "since_param", param = "newer_than", key = "/changed", order = "descending" }"#,
        "",
    );
    let (ids, mark, messages, state) = run(&api, &d, json!({}), &singer::State::default()).await;
    assert_eq!(ids, [5, 4, 3, 2, 1]);
    assert_eq!(mark, Some(json!(ts(14))));
    assert_eq!(
        api.lines(),
        [
            "GET /notes?page=1&size=2",
            "GET /notes?page=2&size=2",
            "GET /notes?page=3&size=2"
        ]
    );
    // No bookmark mid-list (the newest record came first): one at the end, and the final STATE.
    assert_eq!(marks(&messages), [Some(json!(ts(14))), Some(json!(ts(14)))]);

    list.lock().unwrap().push((6, 20));
    api.clear();
    let (ids, mark, ..) = run(&api, &d, json!({}), &state).await;
    assert_eq!(ids, [6, 5]);
    assert_eq!(mark, Some(json!(ts(20))));
    assert_eq!(
        api.lines(),
        [
            format!("GET /notes?newer_than={}&page=1&size=2", ts(14)),
            format!("GET /notes?newer_than={}&page=2&size=2", ts(14)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_stop_reads_a_newest_first_list_down_to_the_bookmark() {
    let list = notes(&[(1, 10), (2, 11), (3, 12), (4, 13), (5, 14)]);
    let style = Style {
        since: None,
        descending: true,
    };
    let api = Api::start(notes_api(list.clone(), style)).await;
    let d = defs(r#"{ mode = "early_stop", key = "/changed" }"#, "");
    // A start date stops the first run.
    let (ids, mark, _, state) = run(
        &api,
        &d,
        json!({"start_date": ts(12)}),
        &singer::State::default(),
    )
    .await;
    assert_eq!(ids, [5, 4, 3]);
    assert_eq!(mark, Some(json!(ts(14))));
    assert_eq!(
        api.lines(),
        ["GET /notes?page=1&size=2", "GET /notes?page=2&size=2"]
    );

    // Two new notes: page 1 holds them, page 2 reaches the bookmark (kept: inclusive) and
    // an older note: the walk stops there.
    list.lock().unwrap().extend([(6, 15), (7, 16)]);
    api.clear();
    let (ids, mark, ..) = run(&api, &d, json!({"start_date": ts(12)}), &state).await;
    assert_eq!(ids, [7, 6, 5]);
    assert_eq!(mark, Some(json!(ts(16))));
    assert_eq!(
        api.lines(),
        ["GET /notes?page=1&size=2", "GET /notes?page=2&size=2"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_filter_reads_everything_and_keeps_what_is_new() {
    // Sorted by id, not by time.
    let list = notes(&[(1, 14), (2, 10), (3, 12)]);
    let by_id = {
        let list = list.clone();
        move |r: &Req| {
            let mut all = list.lock().unwrap().clone();
            all.sort();
            let page = r.n("page").max(1);
            let rows: Vec<Value> = all
                .iter()
                .skip((page - 1) * 2)
                .take(2)
                .map(|&(id, m)| json!({"id": id, "changed": ts(m)}))
                .collect();
            Reply::json(json!(rows))
        }
    };
    let api = Api::start(by_id).await;
    let d = defs(r#"{ mode = "client_filter", key = "/changed" }"#, "");
    let (ids, mark, _, state) = run(&api, &d, json!({}), &singer::State::default()).await;
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(mark, Some(json!(ts(14))));
    list.lock().unwrap()[1].1 = 20;
    list.lock().unwrap().push((4, 13));
    api.clear();
    let (ids, mark, ..) = run(&api, &d, json!({}), &state).await;
    assert_eq!(
        ids,
        [1, 2],
        "note 1 is at the bookmark, note 2 changed; 3 and 4 are older"
    );
    assert_eq!(mark, Some(json!(ts(20))));
    assert_eq!(
        api.lines(),
        [
            "GET /notes?page=1&size=2",
            "GET /notes?page=2&size=2",
            "GET /notes?page=3&size=2"
        ],
        "every page is read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_parameter_caps_the_bookmark_at_the_run_start() {
    // The API ignores the end parameter and holds a note changed in the future.
    let future = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let answer = future.clone();
    let api = Api::start(move |_| {
        Reply::json(json!([
            {"id": 1, "changed": ts(10)},
            {"id": 2, "changed": answer},
        ]))
    })
    .await;
    let d = defs(
        r#"{ mode = "since_param", param = "from", end_param = "until", key = "/changed", order = "ascending" }"#,
        "",
    )
    .replace(
        "paginator = { kind = \"page_number\", param = \"page\", size_param = \"size\", size = 2 }",
        "paginator = { kind = \"none\" }",
    );
    let before = jiff::Timestamp::now();
    let (ids, mark, ..) = run(
        &api,
        &d,
        json!({"start_date": ts(0)}),
        &singer::State::default(),
    )
    .await;
    let after = jiff::Timestamp::now();
    assert_eq!(ids, [1, 2]);
    let until: Vec<String> = api
        .requests()
        .iter()
        .map(|r| r.q("until").unwrap().to_owned())
        .collect();
    assert_eq!(until.len(), 1);
    let end: jiff::Timestamp = until[0].parse().unwrap();
    assert!(
        before.as_second() <= end.as_second() && end <= after,
        "{end} is the run's start"
    );
    assert_eq!(
        api.lines(),
        [format!("GET /notes?from={}&until={}", ts(0), until[0])]
    );
    assert_eq!(mark, Some(json!(until[0])), "not {future}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookback_from_the_definitions_raised_or_replaced_by_the_config() {
    let list = notes(&[(1, 100)]);
    let style = Style {
        since: Some("changed_from"),
        descending: false,
    };
    let api = Api::start(notes_api(list, style)).await;
    let d = defs(
        r#"{ mode = "since_param", param = "changed_from", key = "/changed", order = "ascending", lookback_s = 600 }"#,
        "",
    );
    let (_, mark, _, state) = run(&api, &d, json!({}), &singer::State::default()).await;
    assert_eq!(mark, Some(json!(ts(100))));
    for (config, since) in [
        (json!({}), ts(90)),
        (json!({"lookback_s": 60}), ts(90)),
        (json!({"lookback_s": 1800}), ts(70)),
        (json!({"lookback_s": {"notes": 60}}), ts(99)),
    ] {
        api.clear();
        run(&api, &d, config.clone(), &state).await;
        assert_eq!(
            api.lines(),
            [format!("GET /notes?changed_from={since}&page=1&size=2")],
            "{config}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_list_is_one_304_unless_conditional_requests_are_off() {
    let list = notes(&[(1, 10)]);
    let style = Style {
        since: Some("changed_from"),
        descending: false,
    };
    for conditional in [true, false] {
        let api = Api::start(notes_api(list.clone(), style)).await;
        let extra = if conditional {
            ""
        } else {
            "conditional = false"
        };
        let d = defs(
            r#"{ mode = "since_param", param = "changed_from", key = "/changed", order = "ascending" }"#,
            extra,
        );
        // Run 1 asks without a since value, run 2 from the bookmark: run 3 repeats run 2.
        let (_, _, _, state) = run(&api, &d, json!({}), &singer::State::default()).await;
        let (_, _, _, state) = run(&api, &d, json!({}), &state).await;
        api.clear();
        let (ids, mark, _, state3) = run(&api, &d, json!({}), &state).await;
        let sent: Vec<Option<String>> = api
            .requests()
            .iter()
            .map(|r| r.header("if-none-match").map(str::to_owned))
            .collect();
        assert_eq!(mark, Some(json!(ts(10))));
        if conditional {
            assert_eq!(sent, [Some("\"1@2024-03-01T10:10:00Z\"".to_owned())]);
            assert_eq!(ids, Vec::<u64>::new(), "304: nothing written");
            assert_eq!(state3.to_value(), state.to_value(), "the state is kept");
        } else {
            assert_eq!(sent, [None]);
            assert_eq!(ids, [1]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_etag_is_kept_for_a_first_page_that_is_not_the_whole_list() {
    // Within the lookback, every run asks the same three pages. Their first page does not
    // change when a note is added at the end, so a 304 for it would prove nothing.
    let list = notes(&[(1, 10), (2, 11), (3, 12), (4, 13), (5, 14)]);
    let style = Style {
        since: Some("changed_from"),
        descending: false,
    };
    let api = Api::start(notes_api(list.clone(), style)).await;
    let d = defs(
        r#"{ mode = "since_param", param = "changed_from", key = "/changed", order = "ascending", lookback_s = 3600 }"#,
        "",
    );
    let (_, _, _, state) = run(&api, &d, json!({}), &singer::State::default()).await;
    let (ids, _, _, state) = run(&api, &d, json!({}), &state).await;
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    list.lock().unwrap().push((6, 15));
    api.clear();
    let (ids, mark, ..) = run(&api, &d, json!({}), &state).await;
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    assert_eq!(mark, Some(json!(ts(15))));
    assert!(
        api.requests()
            .iter()
            .all(|r| r.header("if-none-match").is_none()),
        "{:?}",
        api.requests()
            .iter()
            .map(|r| r.header("if-none-match"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_with_a_templated_json_body() {
    let list = notes(&[(1, 10), (2, 20)]);
    let seen = list.clone();
    let api = Api::start(move |r| {
        let body = r.json();
        let since = body["query"]["changed_gte"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let rows: Vec<Value> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|&&(_, m)| ts(m) >= since)
            .map(|&(id, m)| json!({"id": id, "changed": ts(m)}))
            .collect();
        Reply::json(json!({"results": rows}))
    })
    .await;
    let d = defs(
        r#"{ mode = "since_param", key = "/changed", order = "ascending" }"#,
        r#"method = "POST"
path = "/notes/search"
records = "/results"
body = { query = { changed_gte = "{bookmark}", kinds = ["memo", "todo"], owner = "{owner}" }, limit = 50 }"#,
    )
    .replace("path = \"/notes\"\n", "")
    .replace(
        "paginator = { kind = \"page_number\", param = \"page\", size_param = \"size\", size = 2 }",
        "paginator = { kind = \"none\" }",
    );
    let body = |since: Option<String>| {
        let mut q = json!({"kinds": ["memo", "todo"], "owner": "ann"});
        if let Some(s) = since {
            q["changed_gte"] = json!(s);
        }
        json!({"query": q, "limit": 50})
    };
    let sent = |api: &Api| -> Vec<(String, Value)> {
        api.requests()
            .iter()
            .map(|r| (r.line(), r.json()))
            .collect()
    };
    // No start date and no bookmark: the field that needs one is left out.
    let (ids, _, _, state) =
        run(&api, &d, json!({"owner": "ann"}), &singer::State::default()).await;
    assert_eq!(ids, [1, 2]);
    assert_eq!(sent(&api), [("POST /notes/search".to_owned(), body(None))]);
    api.clear();
    let (ids, ..) = run(&api, &d, json!({"owner": "ann"}), &state).await;
    assert_eq!(ids, [2]);
    assert_eq!(
        sent(&api),
        [("POST /notes/search".to_owned(), body(Some(ts(20))))]
    );
    // A start date fills it on a first run.
    api.clear();
    let (ids, ..) = run(
        &api,
        &d,
        json!({"owner": "ann", "start_date": ts(15)}),
        &singer::State::default(),
    )
    .await;
    assert_eq!(ids, [2]);
    assert_eq!(
        sent(&api),
        [("POST /notes/search".to_owned(), body(Some(ts(15))))]
    );
}

const PLAIN: &str = r#"
[connector]
name = "desk"
[settings]
api_url = { type = "string" }
folders = { type = "array" }
[http]
base_url = "{api_url:raw}"
[partitions]
key = "folder"
sources = [{ kind = "setting", setting = "folders" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_keep_the_records_every_condition_accepts() {
    let api = Api::start(|_| {
        Reply::json(json!({"cards": [
            {"id": 1, "kind": "memo", "visible": true, "owner": {"name": "ann"}},
            {"id": 2, "kind": "memo", "visible": true, "owner": {"name": "bot"}},
            {"id": 3, "kind": "draft", "visible": true, "owner": {"name": "ann"}},
            {"id": 4, "kind": "todo", "visible": false, "owner": {"name": "ann"}},
            {"id": 5, "kind": "todo", "visible": true, "owner": {"name": "ann"}, "deleted_at": "2024-01-01T00:00:00Z"},
            {"id": 6, "kind": "todo", "visible": true, "owner": {"name": "cy"}, "deleted_at": null},
            {"id": 7, "kind": "todo", "visible": true},
        ]}))
    })
    .await;
    let d = format!(
        r#"{PLAIN}
[[stream]]
name = "cards"
path = "/cards"
partitioned = false
records = "/cards"
primary_key = ["id"]
replication = {{ mode = "full_table" }}
paginator = {{ kind = "none" }}
filters = [
  {{ pointer = "/kind", one_of = ["memo", "todo"] }},
  {{ pointer = "/visible", equals = true }},
  {{ pointer = "/owner/name", not_equals = "bot" }},
  {{ pointer = "/deleted_at", present = false }},
]
"#
    );
    let engine = engine(
        &d,
        &[(
            "cards",
            schema(&[
                ("id", "integer"),
                ("kind", "string"),
                ("visible", "boolean"),
                ("owner", "object"),
                ("deleted_at", "date-time"),
            ]),
        )],
    );
    let (messages, _) = sync(
        &engine,
        json!({"api_url": api.url}),
        singer::State::default(),
    )
    .await
    .unwrap();
    // 7 has no owner: `not_equals` holds for a missing field.
    assert_eq!(field(&messages, "cards", "id"), [1, 6, 7]);
    assert_eq!(api.lines(), ["GET /cards"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_the_schema_does_not_know_are_kept_as_one_object() {
    let api = Api::start(|_| {
        Reply::json(json!([
            {"id": 1, "title": "a", "color": "red", "custom_17": {"x": 1}},
            {"id": 2, "title": "b"},
        ]))
    })
    .await;
    let d = format!(
        r#"{PLAIN}
[[stream]]
name = "cards"
path = "/cards"
partitioned = false
primary_key = ["id"]
replication = {{ mode = "full_table" }}
paginator = {{ kind = "none" }}
keep_unknown_as = "extra"
"#
    );
    let engine = engine(
        &d,
        &[(
            "cards",
            schema(&[("id", "integer"), ("title", "string"), ("extra", "object")]),
        )],
    );
    let (messages, _) = sync(
        &engine,
        json!({"api_url": api.url}),
        singer::State::default(),
    )
    .await
    .unwrap();
    let cards: Vec<Value> = crate::support::records(&messages, "cards")
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(
        cards,
        [
            json!({"id": 1, "title": "a", "extra": {"color": "red", "custom_17": {"x": 1}}}),
            json!({"id": 2, "title": "b"}),
        ]
    );

    // Without `keep_unknown_as` they are dropped.
    let engine = self::engine(
        &d.replace("keep_unknown_as = \"extra\"", ""),
        &[("cards", schema(&[("id", "integer"), ("title", "string")]))],
    );
    let (messages, _) = sync(
        &engine,
        json!({"api_url": api.url}),
        singer::State::default(),
    )
    .await
    .unwrap();
    let first = crate::support::records(&messages, "cards")[0].clone();
    assert_eq!(first, json!({"id": 1, "title": "a"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_values_are_encoded_unless_raw() {
    let api = Api::start(|_| Reply::json(json!([{"id": 1}]))).await;
    let d = format!(
        r#"{PLAIN}
[[stream]]
name = "encoded"
path = "/folders/{{folder}}/notes"
params = {{ q = "in:{{folder}}" }}
primary_key = ["id", "folder"]
replication = {{ mode = "full_table" }}
paginator = {{ kind = "none" }}
add_fields = [{{ name = "folder", context = "folder" }}]

[[stream]]
name = "raw"
path = "/raw/{{folder:raw}}/notes"
primary_key = ["id"]
replication = {{ mode = "full_table" }}
paginator = {{ kind = "none" }}
"#
    );
    let engine = engine(
        &d,
        &[
            (
                "encoded",
                schema(&[("id", "integer"), ("folder", "string")]),
            ),
            ("raw", schema(&[("id", "integer")])),
        ],
    );
    let config =
        json!({"api_url": api.url, "folders": ["team/alpha", "b c"], "max_concurrency": 1});
    let (messages, _) = sync(&engine, config, singer::State::default())
        .await
        .unwrap();
    let mut sent: Vec<String> = api
        .requests()
        .iter()
        .map(|r| format!("{}?{}", r.path, r.raw_query))
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            "/folders/b%20c/notes?q=in%3Ab+c",
            "/folders/team%2Falpha/notes?q=in%3Ateam%2Falpha",
            "/raw/b%20c/notes?",
            "/raw/team/alpha/notes?",
        ]
    );
    let mut folders = field(&messages, "encoded", "folder");
    folders.sort_by_key(|v| v.to_string());
    assert_eq!(folders, [json!("b c"), json!("team/alpha")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bookmark_in_a_header_waits_for_a_bookmark() {
    let list = notes(&[(1, 10), (2, 20)]);
    let seen = list.clone();
    let api = Api::start(move |_| {
        let rows: Vec<Value> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|&(id, m)| json!({"id": id, "changed": ts(m)}))
            .collect();
        Reply::json(json!(rows))
    })
    .await;
    let d = defs(
        r#"{ mode = "since_param", key = "/changed", order = "ascending" }"#,
        r#"headers = { Changed-Since = "{bookmark:%a, %d %b %Y %H:%M:%S GMT}" }"#,
    )
    .replace(
        "paginator = { kind = \"page_number\", param = \"page\", size_param = \"size\", size = 2 }",
        "paginator = { kind = \"none\" }",
    );
    let (ids, _, _, state) = run(&api, &d, json!({}), &singer::State::default()).await;
    assert_eq!(ids, [1, 2]);
    run(&api, &d, json!({}), &state).await;
    let sent: Vec<Option<String>> = api
        .requests()
        .iter()
        .map(|r| r.header("changed-since").map(str::to_owned))
        .collect();
    assert_eq!(
        sent,
        [None, Some("Fri, 01 Mar 2024 10:20:00 GMT".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_since_value_bounds_a_run_without_bookmark_or_start_date() {
    let list = notes(&[(1, 40), (2, 50)]);
    let api = Api::start(query_api(list)).await;
    let d = defs(
        r#"{ mode = "since_param", key = "/changed", order = "ascending", initial = "2000-01-01T00:00:00Z" }"#,
        "records = \"/matches\"\nparams = { filter = 'changed >= \"{bookmark:%Y/%m/%d %H:%M}\"' }",
    )
    .replace(
        "paginator = { kind = \"page_number\", param = \"page\", size_param = \"size\", size = 2 }",
        "paginator = { kind = \"none\" }",
    );
    let (ids, _, _, state) = run(&api, &d, json!({}), &singer::State::default()).await;
    assert_eq!(ids, [1, 2]);
    run(
        &api,
        &d,
        json!({"start_date": "2024-01-31T13:45:00Z"}),
        &singer::State::default(),
    )
    .await;
    run(&api, &d, json!({}), &state).await;
    let filters: Vec<String> = api
        .requests()
        .iter()
        .map(|r| r.q("filter").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        filters,
        [
            "changed >= \"2000/01/01 00:00\"",
            "changed >= \"2024/01/31 13:45\"",
            "changed >= \"2024/03/01 10:50\"",
        ]
    );
    let bad = d.replace("2000-01-01T00:00:00Z", "2000-01-01");
    let e = tap_rest::defs::Definitions::parse(&bad, "x").expect_err("not a date-time");
    assert_eq!(
        e.key.as_deref(),
        Some("stream[0].replication.initial"),
        "{e}"
    );
}
