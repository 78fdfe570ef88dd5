//! Pages fetched ahead: when the first answer numbers the last page (a `rel="last"` link) the
//! pages after it are asked at once, within the requests-in-flight budget, and their records
//! are still written in the list's order, each STATE behind every record it covers. A "slow
//! down" answer halves the budget; a 5xx in between is retried in place. Lists whose next page
//! depends on the one before (re-anchored, or stopping early at a bookmark) stay sequential.
//! Every page answers after [`DELAY`]; later pages are asked at the server's own pace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Api, Files, Reply, Req, engine, field, parse_lines, schema, sync};

const DELAY: Duration = Duration::from_millis(120);
const PER_PAGE: usize = 3;

/// A connector with one stream `rows` whose replication is `replication`, paged by `Link`
/// headers whose page parameter is `at`.
fn defs(replication: &str) -> String {
    r#"
[connector]
name = "ledger"
[settings]
api_url = { type = "string" }
[http]
base_url = "{api_url:raw}"
[rate_limit]
slow_down = [{ status = 429, body = "slow down" }]
retry_after_header = "wait-seconds"
[[stream]]
name = "rows"
path = "/rows"
primary_key = ["id"]
replication = REPLICATION
paginator = { kind = "link_header", page_param = "at" }
"#
    .replace("REPLICATION", replication)
}

fn rows_schema() -> Value {
    schema(&[("id", "integer"), ("stamp", "integer")])
}

/// Page `at` (from 1) of a list of `n` rows, ids 1..=n, `stamp` = id (ascending) or n+1−id
/// (descending), with `next` and `last` links; answered after [`DELAY`], later pages a little
/// sooner than earlier ones so that answers arrive out of order.
fn page(r: &Req, n: usize, descending: bool) -> Reply {
    let at = r.q("at").map_or(1, |v| v.parse::<usize>().unwrap());
    let pages = n.div_ceil(PER_PAGE);
    let rows: Vec<Value> = ((at - 1) * PER_PAGE + 1..=n.min(at * PER_PAGE))
        .map(|i| {
            let id = if descending { n + 1 - i } else { i };
            json!({"id": id, "stamp": id})
        })
        .collect();
    let link = |k: usize| format!("<{}/rows?at={k}>", r.base);
    let mut links = vec![format!("{}; rel=\"last\"", link(pages))];
    if at < pages {
        links.insert(0, format!("{}; rel=\"next\"", link(at + 1)));
    }
    let sooner = Duration::from_millis(3 * at.min(10) as u64);
    Reply::json(json!(rows))
        .header("link", links.join(", "))
        .after(DELAY - sooner)
}

/// The most requests that were in flight at once among those that arrived at or after `from`,
/// each taking about [`DELAY`].
fn most_in_flight(requests: &[Req], from: Instant) -> usize {
    let times: Vec<Instant> = requests
        .iter()
        .map(|r| r.at)
        .filter(|t| *t >= from)
        .collect();
    // Every answer takes at least DELAY − 30 ms: one that arrived within DELAY / 2 before `t`
    // is still in flight at `t`.
    let busy = DELAY / 2;
    times
        .iter()
        .map(|t| times.iter().filter(|u| *u <= t && *t < **u + busy).count())
        .max()
        .unwrap_or(0)
}

fn ids(messages: &[Value]) -> Vec<u64> {
    field(messages, "rows", "id")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_numbered_by_a_last_link_are_asked_at_once_and_written_in_order() {
    let n = 8 * PER_PAGE;
    let api = Api::start(move |r| page(r, n, false)).await;
    let engine = engine(
        &defs(r#"{ mode = "full_table" }"#),
        &[("rows", rows_schema())],
    );
    let started = Instant::now();
    let (messages, summary) = sync(
        &engine,
        json!({"api_url": api.url, "max_concurrency": 4}),
        singer::State::default(),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    assert_eq!(ids(&messages), (1..=n as u64).collect::<Vec<_>>());
    // The first page is asked again at the end: an unchanged head proves no record shifted.
    assert_eq!(summary.requests, 9, "{:?}", api.lines());
    let requests = api.requests();
    assert_eq!(
        most_in_flight(&requests, started),
        4,
        "pages 2..8 four at a time: {:?}",
        requests.iter().map(|r| r.at - started).collect::<Vec<_>>()
    );
    // Page 1, then 2–5 at once, then 6–8: three rounds after the first, not seven.
    assert!(took < DELAY * 6, "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_state_comes_after_every_record_it_covers_while_pages_answer_out_of_order() {
    // An ascending list bookmarked page by page, not re-anchored: its pages may go ahead.
    let n = 7 * PER_PAGE;
    let api = Api::start(move |r| page(r, n, false)).await;
    let engine = engine(
        &defs(r#"{ mode = "since_param", param = "from", key = "/stamp", order = "ascending" }"#),
        &[("rows", rows_schema())],
    );
    let (messages, _) = sync(
        &engine,
        json!({"api_url": api.url, "max_concurrency": 4}),
        singer::State::default(),
    )
    .await
    .unwrap();
    assert_eq!(ids(&messages), (1..=n as u64).collect::<Vec<_>>());
    let mut written = 0u64;
    let mut states = 0;
    for m in &messages {
        match m["type"].as_str() {
            Some("RECORD") => written += 1,
            Some("STATE") => {
                let Some(mark) = crate::support::bookmark(&m["value"], "rows", json!({})) else {
                    continue;
                };
                states += 1;
                // Ids equal stamps: every stamp up to the bookmark is written before it.
                assert!(
                    written >= mark.as_u64().unwrap(),
                    "STATE at {mark} after {written} records"
                );
            }
            _ => {}
        }
    }
    assert!(
        states >= 6,
        "a bookmark after each page but the last: {states}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_down_halves_the_pages_in_flight_and_a_5xx_is_retried_in_place() {
    let n = 14 * PER_PAGE;
    let (limited, failed) = (AtomicBool::new(false), AtomicBool::new(false));
    let api = Api::start(move |r| match r.q("at") {
        Some("3") if !limited.swap(true, Ordering::SeqCst) => {
            Reply::status(429, "please slow down").header("wait-seconds", 0)
        }
        Some("9") if !failed.swap(true, Ordering::SeqCst) => Reply::status(502, "bad gateway"),
        _ => page(r, n, false),
    })
    .await;
    let files = Files::new(
        &defs(r#"{ mode = "full_table" }"#),
        &[("rows", rows_schema())],
        &json!({"api_url": api.url, "max_concurrency": 4}),
    );
    let (code, stdout, stderr) = files.run(&[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("requests in flight 4 → 2"), "{stderr}");
    let messages = parse_lines(&stdout);
    assert_eq!(ids(&messages), (1..=n as u64).collect::<Vec<_>>());
    let requests = api.requests();
    assert_eq!(requests.len(), 14 + 2 + 1, "{:?}", api.lines());
    // Once the pages asked before the cut have answered, two at a time (the refused
    // requests, answered at once, are not counted).
    let cut = requests.iter().find(|r| r.q("at") == Some("3")).unwrap().at;
    let mut refused = vec!["3", "9"];
    let answered: Vec<Req> = requests
        .into_iter()
        .filter(|r| {
            let first = refused.iter().position(|p| r.q("at") == Some(p));
            first.map(|i| refused.remove(i)).is_none()
        })
        .collect();
    assert_eq!(most_in_flight(&answered, cut + DELAY), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_stops_early_at_its_bookmark_asks_no_page_past_it() {
    // Newest first, stopping at the first row older than the bookmark: page 2 holds it.
    let n = 6 * PER_PAGE;
    let api = Api::start(move |r| page(r, n, true)).await;
    let engine = engine(
        &defs(r#"{ mode = "early_stop", key = "/stamp" }"#),
        &[("rows", rows_schema())],
    );
    let state = singer::State::from_value(json!({"bookmarks": {"rows": {"partitions": [{
        "context": {}, "replication_key": "stamp", "replication_key_value": n - PER_PAGE - 1
    }]}}}))
    .unwrap();
    let (messages, _) = sync(
        &engine,
        json!({"api_url": api.url, "max_concurrency": 4}),
        state,
    )
    .await
    .unwrap();
    let want: Vec<u64> = (n - PER_PAGE - 1..=n).rev().map(|i| i as u64).collect();
    assert_eq!(ids(&messages), want);
    assert_eq!(api.lines(), ["GET /rows", "GET /rows?at=2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn about_says_per_stream_which_pages_go_ahead() {
    let text = defs(r#"{ mode = "full_table" }"#).replace(
        "[[stream]]",
        r#"[[stream]]
name = "marks"
path = "/marks"
primary_key = ["id"]
replication = { mode = "since_param", param = "from", key = "/stamp", order = "ascending", reanchor = true }
paginator = { kind = "link_header", page_param = "at" }

[[stream]]
name = "notes"
path = "/notes"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "cursor", from = { header = "next-token" }, into = { param = "token" } }

[[stream]]"#,
    );
    let schemas = [
        ("rows", rows_schema()),
        ("marks", rows_schema()),
        ("notes", rows_schema()),
    ];
    let files = Files::new(&text, &schemas, &json!({"api_url": "http://127.0.0.1:9"}));
    let (code, stdout, stderr) = files.run(&["--about", "--format", "json"]).await;
    assert_eq!(code, 0, "{stderr}");
    let about: Value = serde_json::from_str(&stdout).unwrap();
    let pages = |name: &str| {
        about["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["pages"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert!(
        pages("rows").starts_with("in parallel"),
        "{}",
        pages("rows")
    );
    assert!(pages("marks").starts_with("sequential: each page is asked from the last value"));
    assert!(pages("notes").starts_with("sequential: each page's cursor"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_grows_at_its_head_while_paged_ahead_is_read_again_page_by_page() {
    // Newest first; two rows are added at the head once three requests have been answered, so
    // a page asked early may miss rows that later pages pushed down past it.
    let n = 4 * PER_PAGE;
    let served = std::sync::atomic::AtomicUsize::new(0);
    let api = Api::start(move |r| {
        let grown = if served.fetch_add(1, Ordering::SeqCst) >= 3 {
            2
        } else {
            0
        };
        page(r, n + grown, true)
    })
    .await;
    let engine = engine(
        &defs(r#"{ mode = "full_table" }"#),
        &[("rows", rows_schema())],
    );
    let (messages, _) = sync(
        &engine,
        json!({"api_url": api.url, "max_concurrency": 4}),
        singer::State::default(),
    )
    .await
    .unwrap();
    let written: std::collections::BTreeSet<u64> = ids(&messages).into_iter().collect();
    let all: std::collections::BTreeSet<u64> = (1..=n as u64 + 2).collect();
    assert_eq!(written, all, "no row lost");
    let firsts = api.lines().iter().filter(|l| *l == "GET /rows").count();
    assert_eq!(
        firsts,
        3,
        "first page, its check, and the walk again: {:?}",
        api.lines()
    );
}
