//! Partitions of an invented API: values from a setting and from a paged list endpoint for each
//! value of another setting, duplicates dropped ignoring case, and what a 404 means for each
//! (a named partition fails the run at the end, a discovered one is skipped); `on_status`
//! actions, the stream's over the file's.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::support::{Api, Reply, Req, engine, records, schema, sync};

const DEFS: &str = r#"
on_status = { "404" = "skip_partition", "409" = "fail" }
add_fields = [{ name = "board", context = "board" }]

[connector]
name = "kanban"
[settings]
api_url = { type = "string" }
boards = { type = "array" }
workspaces = { type = "array" }
[http]
base_url = "{api_url:raw}"
[partitions]
key = "board"
case_insensitive = true
sources = [
  { kind = "setting", setting = "boards" },
  { kind = "list", setting = "workspaces", path = "/workspaces/{value}/boards", records = "/boards", field = "/slug", paginator = { kind = "cursor", from = { pointer = "/more" }, into = { param = "after" } }, missing = "warn" },
]

[[stream]]
name = "cards"
path = "/boards/{board}/cards"
primary_key = ["board", "id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }
on_status = { "409" = "empty", "425" = "retry" }
"#;

/// Workspace `w1` lists boards `a`, `B` then (next page) `c`; `gone` is 404. Board `c` and
/// `zed` are 404; `busy` answers 425 once; `locked` answers 409 (the stream says empty).
fn kanban() -> impl Fn(&Req) -> Reply + Send + Sync {
    let busy = AtomicUsize::new(0);
    move |r| match r.path.as_str() {
        "/workspaces/w1/boards" => match r.q("after") {
            None => Reply::json(json!({"boards": [{"slug": "a"}, {"slug": "B"}], "more": "p2"})),
            Some(_) => Reply::json(json!({"boards": [{"slug": "c"}], "more": null})),
        },
        "/workspaces/gone/boards" | "/boards/c/cards" | "/boards/zed/cards" => {
            Reply::status(404, "{}")
        }
        "/boards/busy/cards" if busy.fetch_add(1, Ordering::SeqCst) == 0 => {
            Reply::status(425, "too early")
        }
        "/boards/locked/cards" => Reply::status(409, "locked"),
        path => {
            let board = path.split('/').nth(2).unwrap();
            Reply::json(json!([{"id": 1, "title": format!("card of {board}")}]))
        }
    }
}

async fn run(
    api: &Api,
    defs: &str,
    config: Value,
) -> Result<(Vec<Value>, tap_rest::engine::Summary), String> {
    let engine = engine(
        defs,
        &[(
            "cards",
            schema(&[("board", "string"), ("id", "integer"), ("title", "string")]),
        )],
    );
    let mut config = config;
    config["api_url"] = json!(api.url);
    config["max_concurrency"] = json!(1);
    sync(&engine, config, singer::State::default())
        .await
        .map_err(|e| e.to_string())
}

fn boards(messages: &[Value]) -> Vec<String> {
    records(messages, "cards")
        .iter()
        .map(|r| r["board"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_from_a_setting_and_a_paged_list_without_duplicates() {
    let api = Api::start(kanban()).await;
    let (messages, summary) = run(
        &api,
        DEFS,
        json!({"boards": ["b", "busy", "locked"], "workspaces": ["w1", "gone"]}),
    )
    .await
    .unwrap();
    // `B` from the list is `b` from the setting; `c` was discovered, so its 404 is a warning.
    assert_eq!(boards(&messages), ["b", "busy", "a"]);
    assert_eq!(summary.skipped, ["board c"]);
    assert_eq!(
        api.lines(),
        [
            "GET /workspaces/w1/boards",
            "GET /workspaces/w1/boards?after=p2",
            "GET /workspaces/gone/boards",
            "GET /boards/b/cards",
            "GET /boards/busy/cards",
            "GET /boards/busy/cards",
            "GET /boards/locked/cards",
            "GET /boards/a/cards",
            "GET /boards/c/cards",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_partition_that_is_missing_fails_the_run_after_the_others() {
    let api = Api::start(kanban()).await;
    let err = run(
        &api,
        DEFS,
        json!({"boards": ["zed", "b"], "workspaces": []}),
    )
    .await
    .unwrap_err();
    assert_eq!(err, "not found: board zed");
    assert_eq!(
        api.lines(),
        ["GET /boards/zed/cards", "GET /boards/b/cards"]
    );

    // A list the user named that is missing, when the file says so, fails too.
    let api = Api::start(kanban()).await;
    let strict = DEFS.replace(", missing = \"warn\"", "");
    let err = run(
        &api,
        &strict,
        json!({"boards": ["b"], "workspaces": ["gone"]}),
    )
    .await
    .unwrap_err();
    assert_eq!(err, "not found: workspaces `gone`");
    assert_eq!(
        api.lines(),
        ["GET /workspaces/gone/boards", "GET /boards/b/cards"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_wide_action_applies_where_the_stream_has_none() {
    // Without the stream's own entry, the file's 409 = fail stops the run.
    let api = Api::start(kanban()).await;
    let d = DEFS.replace("\"409\" = \"empty\", ", "");
    let err = run(&api, &d, json!({"boards": ["locked"], "workspaces": []}))
        .await
        .unwrap_err();
    assert!(
        err.starts_with(&format!(
            "stream `cards`: {}/boards/locked/cards answered 409: locked",
            api.url
        )),
        "{err}"
    );
}
