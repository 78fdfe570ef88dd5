//! Parent and child streams on an invented boards API: a task list per project, its path and
//! context from project fields; only projects changed in the run have their tasks read; a
//! child selected alone is still driven by its parent; and a kill between a parent page and its
//! children leaves a STATE that does not cover that page, so a resumed run reads them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    Api, Files, Reply, Req, bookmark, catalog, engine, parse_lines, records, schema, states,
    sync_catalog,
};

const DEFS: &str = r#"
[connector]
name = "boards"
[settings]
api_url = { type = "string" }
[http]
base_url = "{api_url:raw}"

[[stream]]
name = "projects"
path = "/projects"
primary_key = ["id"]
replication = { mode = "since_param", param = "changed_after", key = "/changed", order = "ascending" }
paginator = { kind = "page_number", param = "page", size_param = "size", size = 2 }

[[stream]]
name = "tasks"
path = "/projects/{project}/tasks"
params = { board = "{board}" }
primary_key = ["project", "id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }
parent = { stream = "projects", context = { project = "/id", board = "/board/key" } }
add_fields = [{ name = "project", context = "project" }]
"#;

fn ts(m: i64) -> String {
    format!("2024-05-01T09:{m:02}:00Z")
}

/// Projects: (id, minute of `changed`); project `p` has tasks `10p+1` and `10p+2`.
type Projects = Arc<Mutex<Vec<(u64, i64)>>>;

/// The boards API. `changed_after` is exclusive; `stall` makes the task list of project 3
/// hang for a minute.
fn boards(projects: Projects, stall: Arc<AtomicBool>) -> impl Fn(&Req) -> Reply + Send + Sync {
    move |r| {
        if let Some(rest) = r.path.strip_prefix("/projects/") {
            let id: u64 = rest.trim_end_matches("/tasks").parse().unwrap();
            let tasks: Vec<Value> = (1..=2)
                .map(|t| json!({"id": id * 10 + t, "title": format!("task {t} of {id}"), "board": r.q("board")}))
                .collect();
            let reply = Reply::json(json!(tasks));
            if id == 3 && stall.load(Ordering::SeqCst) {
                return reply.after(Duration::from_secs(60));
            }
            return reply;
        }
        let mut all = projects.lock().unwrap().clone();
        all.sort_by_key(|&(id, m)| (m, id));
        if let Some(after) = r.q("changed_after") {
            all.retain(|&(_, m)| ts(m).as_str() > after);
        }
        let page = r.n("page").max(1);
        let rows: Vec<Value> = all
            .iter()
            .skip((page - 1) * 2)
            .take(2)
            .map(|&(id, m)| json!({"id": id, "changed": ts(m), "board": {"key": format!("b{}", id % 2)}}))
            .collect();
        Reply::json(json!(rows))
    }
}

fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "projects",
            schema(&[
                ("id", "integer"),
                ("changed", "date-time"),
                ("board", "object"),
            ]),
        ),
        (
            "tasks",
            schema(&[
                ("project", "integer"),
                ("id", "integer"),
                ("title", "string"),
                ("board", "string"),
            ]),
        ),
    ]
}

fn start() -> (Projects, Arc<AtomicBool>) {
    (
        Arc::new(Mutex::new(vec![(1, 10), (2, 11), (3, 12)])),
        Arc::new(AtomicBool::new(false)),
    )
}

fn ids(messages: &[Value], stream: &str) -> Vec<u64> {
    records(messages, stream)
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_come_from_parent_fields_and_only_changed_parents_are_read_again() {
    let (projects, stall) = start();
    let api = Api::start(boards(projects.clone(), stall)).await;
    let s = schemas();
    let engine = engine(DEFS, &s);
    let config = json!({"api_url": api.url, "max_concurrency": 1});
    let (messages, summary) = sync_catalog(&engine, config.clone(), singer::State::default(), None)
        .await
        .unwrap();
    assert_eq!(
        api.lines(),
        [
            "GET /projects?page=1&size=2",
            "GET /projects/1/tasks?board=b1",
            "GET /projects/2/tasks?board=b0",
            "GET /projects?page=2&size=2",
            "GET /projects/3/tasks?board=b1",
        ]
    );
    assert_eq!(ids(&messages, "projects"), [1, 2, 3]);
    assert_eq!(ids(&messages, "tasks"), [11, 12, 21, 22, 31, 32]);
    let tasks: Vec<Value> = records(&messages, "tasks").into_iter().cloned().collect();
    assert_eq!(
        tasks[2],
        json!({"project": 2, "id": 21, "title": "task 1 of 2", "board": "b0"}),
        "the context field is added; the parent's field filled the parameter"
    );
    // The bookmark after page 1 comes after the tasks of its projects.
    let position = |pred: &dyn Fn(&Value) -> bool| messages.iter().position(pred).unwrap();
    let first_state = position(&|m| m["type"] == "STATE");
    let last_task_of_2 = position(&|m| m["type"] == "RECORD" && m["record"]["id"] == 22);
    assert!(last_task_of_2 < first_state, "{messages:#?}");
    assert_eq!(
        bookmark(states(&messages)[0], "projects", json!({})),
        Some(json!(ts(11)))
    );
    assert!(
        summary.state.stream("tasks").is_none(),
        "a child keeps no bookmark of its own"
    );

    // Projects 1 and 3 change: exactly their two task lists are read.
    projects.lock().unwrap()[0].1 = 20;
    projects.lock().unwrap()[2].1 = 21;
    api.clear();
    let (messages, _) = sync_catalog(&engine, config, summary.state, None)
        .await
        .unwrap();
    assert_eq!(
        api.lines(),
        [
            format!("GET /projects?changed_after={}&page=1&size=2", ts(12)),
            "GET /projects/1/tasks?board=b1".into(),
            "GET /projects/3/tasks?board=b1".into(),
            format!("GET /projects?changed_after={}&page=2&size=2", ts(12)),
        ]
    );
    assert_eq!(ids(&messages, "projects"), [1, 3]);
    assert_eq!(ids(&messages, "tasks"), [11, 12, 31, 32]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unselected_parent_still_drives_its_selected_child() {
    let (projects, stall) = start();
    let api = Api::start(boards(projects, stall)).await;
    let s = schemas();
    let engine = engine(DEFS, &s);
    let config = json!({"api_url": api.url, "max_concurrency": 1});
    let only_tasks = catalog(&engine, &["tasks"]);
    let (messages, summary) = sync_catalog(
        &engine,
        config.clone(),
        singer::State::default(),
        Some(only_tasks),
    )
    .await
    .unwrap();
    assert!(
        messages.iter().all(|m| m["stream"] != "projects"),
        "no SCHEMA or RECORD of the parent"
    );
    let schemas: Vec<&Value> = messages
        .iter()
        .filter(|m| m["type"] == "SCHEMA")
        .map(|m| &m["stream"])
        .collect();
    assert_eq!(schemas, ["tasks"]);
    assert_eq!(ids(&messages, "tasks"), [11, 12, 21, 22, 31, 32]);
    assert_eq!(api.lines().len(), 5, "{:?}", api.lines());
    // The parent's bookmark says its records were not written…
    let p = summary
        .state
        .partition("projects", &serde_json::Map::new())
        .unwrap();
    assert_eq!(p.replication_key_value, Some(json!(ts(12))));
    assert_eq!(p.extra["window"]["unselected"], true);

    // …so once the parent is selected, it is read again from the start.
    api.clear();
    let both = catalog(&engine, &["projects", "tasks"]);
    let (messages, _) = sync_catalog(&engine, config, summary.state, Some(both))
        .await
        .unwrap();
    assert_eq!(ids(&messages, "projects"), [1, 2, 3]);
    assert_eq!(api.lines()[0], "GET /projects?page=1&size=2");
}

/// Waits (up to 20 s) until `path` holds a STATE line.
async fn state_written(path: &std::path::Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().any(|l| l.contains("\"type\":\"STATE\"")) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no STATE: {text}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_a_parent_page_and_its_children_is_resumed_from_a_state_before_it() {
    let (projects, stall) = start();
    stall.store(true, Ordering::SeqCst);
    let api = Api::start(boards(projects, stall.clone())).await;
    let files = Files::new(
        DEFS,
        &schemas(),
        &json!({"api_url": api.url, "max_concurrency": 1}),
    );
    let stdout = files.path("out.jsonl");
    let mut tap = files
        .command(&[])
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(files.path("err.log")).unwrap())
        .spawn()
        .unwrap();
    // Page 2 was served and its project's task list is hanging.
    api.wait_for(|reqs| reqs.iter().any(|r| r.path == "/projects/3/tasks"))
        .await;
    state_written(&stdout).await;
    tap.kill().unwrap(); // SIGKILL
    tap.wait().unwrap();

    let killed = parse_lines(&std::fs::read_to_string(&stdout).unwrap());
    let last = *states(&killed).last().unwrap();
    assert_eq!(
        bookmark(last, "projects", json!({})),
        Some(json!(ts(11))),
        "the last STATE covers page 1 only: {killed:#?}"
    );
    assert_eq!(ids(&killed, "tasks"), [11, 12, 21, 22]);

    // Resumed from that STATE, with the API healthy again: project 3 and its tasks.
    stall.store(false, Ordering::SeqCst);
    api.clear();
    let state = files.write("state.json", &last.to_string());
    let (code, out, err) = files.run(&["--state", state.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    let resumed = parse_lines(&out);
    assert_eq!(
        api.lines(),
        [
            format!("GET /projects?changed_after={}&page=1&size=2", ts(11)),
            "GET /projects/3/tasks?board=b1".into(),
        ]
    );
    assert_eq!(ids(&resumed, "projects"), [3]);
    assert_eq!(ids(&resumed, "tasks"), [31, 32]);
    let last = *states(&resumed).last().unwrap();
    assert_eq!(bookmark(last, "projects", json!({})), Some(json!(ts(12))));
}

/// Orders that embed their first lines and say how many they have; `/orders/{id}/lines` gives
/// them all.
fn orders_api() -> impl Fn(&Req) -> Reply + Send + Sync {
    let lines = |id: u64, n: u64| -> Vec<Value> {
        (1..=n)
            .map(|l| json!({"id": id * 10 + l, "sku": format!("s{l}")}))
            .collect()
    };
    move |r| {
        if let Some(rest) = r.path.strip_prefix("/orders/") {
            let id: u64 = rest.trim_end_matches("/lines").parse().unwrap();
            return Reply::json(json!(lines(id, id)));
        }
        // Order `id` has `id` lines; at most two are embedded.
        let rows: Vec<Value> = (1..=3)
            .map(|id| {
                let mut shown = lines(id, id);
                shown.truncate(2);
                json!({"id": id, "detail": {"lines": {"items": shown, "count": id}, "note": "n"}})
            })
            .collect();
        Reply::json(json!(rows))
    }
}

const EMBEDDED: &str = r#"
[connector]
name = "shop"
[settings]
api_url = { type = "string" }
[http]
base_url = "{api_url:raw}"

[[stream]]
name = "orders"
path = "/orders"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }
remove = ["/detail/lines"]

[[stream]]
name = "lines"
path = "/orders/{order}/lines"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }
parent = { stream = "orders", context = { order = "/id" }, embedded = { records = "/detail/lines/items", total = "/detail/lines/count" } }
add_fields = [{ name = "order", context = "order" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_list_embedded_in_the_parent_is_read_without_a_request() {
    let api = Api::start(orders_api()).await;
    let s = vec![
        ("orders", schema(&[("id", "integer"), ("detail", "object")])),
        (
            "lines",
            schema(&[("id", "integer"), ("sku", "string"), ("order", "integer")]),
        ),
    ];
    let engine = engine(EMBEDDED, &s);
    let config = json!({"api_url": api.url, "max_concurrency": 1});
    let (messages, _) = sync_catalog(&engine, config, singer::State::default(), None)
        .await
        .unwrap();
    // Orders 1 and 2 embed all their lines; order 3 embeds two of three: its list is asked.
    assert_eq!(api.lines(), ["GET /orders", "GET /orders/3/lines"]);
    let mut got = ids(&messages, "lines");
    got.sort_unstable();
    assert_eq!(got, [11, 21, 22, 31, 32, 33]);
    let orders = records(&messages, "orders");
    assert_eq!(
        orders[0]["detail"],
        json!({"note": "n"}),
        "the embedded list is removed"
    );
    assert_eq!(records(&messages, "lines")[0]["order"], json!(1));
    // Only a pointer is accepted where a list or a count is read.
    let bad = EMBEDDED.replace("total = \"/detail/lines/count\"", "total = \"count\"");
    let e = tap_rest::defs::Definitions::parse(&bad, "x").expect_err("not a pointer");
    assert_eq!(
        e.key.as_deref(),
        Some("stream[1].parent.embedded.total"),
        "{e}"
    );
}
