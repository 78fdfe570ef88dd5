//! Rate limits as an invented API declares them: its own header names, each reset format,
//! retry-after in seconds and as a date, a "slow down" status recognised by its body, the
//! proactive pause below the buffer, and a wait longer than allowed failing in one line. The
//! waits are about a second; the time between requests is measured at the server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::{Api, Files, Reply, engine, field, schema, sync};

fn defs(rate: &str, paginator: &str) -> String {
    r#"
[connector]
name = "quota"
[settings]
api_url = { type = "string" }
[http]
base_url = "{api_url:raw}"
[rate_limit]
RATE
[[stream]]
name = "items"
path = "/items"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = PAGINATOR
on_status = { "409" = "empty" }
"#
    .replace("RATE", rate)
    .replace("PAGINATOR", paginator)
}

const HEADERS: &str = r#"remaining_header = "quota-left"
limit_header = "quota-size"
reset_header = "quota-renews""#;

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

fn http_date(at: Duration) -> String {
    jiff::Timestamp::from_second(at.as_secs() as i64)
        .unwrap()
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// An API whose first answer is `first()` (made when asked) and every later one a record.
async fn limited_once(first: impl Fn() -> Reply + Send + Sync + 'static) -> Api {
    let n = AtomicUsize::new(0);
    Api::start(move |_| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            first()
        } else {
            Reply::json(json!([{"id": 1}]))
        }
    })
    .await
}

/// Syncs `defs` against `api` with `config`: the ids, or the error.
async fn run(api: &Api, defs: &str, config: Value) -> Result<Vec<Value>, String> {
    let engine = engine(defs, &[("items", schema(&[("id", "integer")]))]);
    let mut config = config;
    config["api_url"] = json!(api.url);
    sync(&engine, config, singer::State::default())
        .await
        .map(|(m, _)| field(&m, "items", "id"))
        .map_err(|e| e.to_string())
}

/// Seconds between consecutive requests.
fn gaps(api: &Api) -> Vec<f64> {
    let reqs = api.requests();
    reqs.windows(2)
        .map(|w| (w[1].at - w[0].at).as_secs_f64())
        .collect()
}

/// A 429 with nothing left and a reset written by `reset`: the client waits until the reset
/// (plus one second) and asks again; returns the wait.
async fn waits_for_the_reset(
    format: &str,
    reset: impl Fn() -> String + Send + Sync + 'static,
) -> f64 {
    let api = limited_once(move || {
        Reply::status(429, "{}")
            .header("quota-left", 0)
            .header("quota-size", 100)
            .header("quota-renews", reset())
    })
    .await;
    let d = defs(
        &format!("{HEADERS}\nreset_format = \"{format}\""),
        r#"{ kind = "none" }"#,
    );
    let ids = run(&api, &d, json!({"max_rate_limit_wait_s": 5})).await;
    assert_eq!(ids, Ok(vec![json!(1)]), "{format}");
    assert_eq!(api.lines(), ["GET /items", "GET /items"], "{format}");
    gaps(&api)[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_reset_format_is_waited_out() {
    // The four at once: each waits about a second or two.
    let (epoch_seconds, epoch_millis, seconds, date) = tokio::join!(
        waits_for_the_reset("epoch_seconds", || (now().as_secs() + 1).to_string()),
        // Read as seconds, this would be thousands of years away and fail the run.
        waits_for_the_reset("epoch_millis", || (now().as_millis() + 500).to_string()),
        // Read as an instant, 1 would be 1970: a wait of one second, not two.
        waits_for_the_reset("seconds", || "1".to_owned()),
        // Not understood, the reset would default to a minute and fail the run (5 s allowed).
        waits_for_the_reset("http_date", || http_date(now() + Duration::from_secs(1))),
    );
    assert!((0.9..2.3).contains(&epoch_seconds), "{epoch_seconds}");
    assert!((1.35..2.0).contains(&epoch_millis), "{epoch_millis}");
    assert!((1.9..2.6).contains(&seconds), "{seconds}");
    assert!((0.9..2.3).contains(&date), "{date}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_in_seconds_or_as_a_date_under_its_declared_name() {
    let d = defs("retry_after_header = \"wait-for\"", r#"{ kind = "none" }"#);
    let waited = |header: fn() -> String| {
        let d = d.clone();
        async move {
            let api =
                limited_once(move || Reply::status(429, "slow").header("wait-for", header())).await;
            assert_eq!(
                run(&api, &d, json!({"max_rate_limit_wait_s": 5})).await,
                Ok(vec![json!(1)])
            );
            gaps(&api)[0]
        }
    };
    let (seconds, date) = tokio::join!(
        waited(|| "1".to_owned()),
        waited(|| http_date(now() + Duration::from_secs(2))),
    );
    assert!((0.95..1.6).contains(&seconds), "{seconds}");
    assert!((0.95..2.6).contains(&date), "{date}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_down_answer_is_known_by_its_status_and_body() {
    let rate = r#"slow_down = [{ status = 409, body = "Too Eager" }]"#;
    let d = defs(rate, r#"{ kind = "none" }"#);
    // With a retry-after, it is waited out.
    let api = limited_once(|| {
        Reply::status(409, r#"{"message": "you are too eager"}"#).header("retry-after", 1)
    })
    .await;
    assert_eq!(
        run(&api, &d, json!({"max_rate_limit_wait_s": 5})).await,
        Ok(vec![json!(1)])
    );
    assert_eq!(api.lines().len(), 2);
    // Without one, the back-off starts at a minute: more than the 5 s allowed.
    let api = limited_once(|| Reply::status(409, r#"{"message": "you are TOO EAGER"}"#)).await;
    let err = run(&api, &d, json!({"max_rate_limit_wait_s": 5}))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        "rate limited: 409: rate limited without a retry-after: the wait of 60s exceeds max_rate_limit_wait_s (5s)"
    );
    assert_eq!(api.lines().len(), 1);
    // The same status with another body is not a limit: the stream's `empty` applies.
    let api = limited_once(|| Reply::status(409, r#"{"message": "conflict"}"#)).await;
    assert_eq!(
        run(&api, &d, json!({"max_rate_limit_wait_s": 5})).await,
        Ok(vec![])
    );
    assert_eq!(api.lines(), ["GET /items"]);
}

/// Three pages; the answers say `left[i]` of 100 requests remain, the window renewing in 0 s
/// (so a pause lasts the extra second).
async fn paged_quota(left: [u64; 3], config: Value) -> Vec<f64> {
    let api = Api::start(move |r| {
        let page = r.n("page");
        let items: Vec<Value> = if page <= 2 {
            vec![json!({"id": page})]
        } else {
            vec![]
        };
        Reply::json(json!(items))
            .header("quota-left", left[page - 1])
            .header("quota-size", 100)
            .header("quota-renews", 0)
    })
    .await;
    let d = defs(
        &format!("{HEADERS}\nreset_format = \"seconds\""),
        r#"{ kind = "page_number", param = "page", size_param = "size", size = 1 }"#,
    );
    assert_eq!(run(&api, &d, config).await, Ok(vec![json!(1), json!(2)]));
    assert_eq!(
        api.lines(),
        [
            "GET /items?page=1&size=1",
            "GET /items?page=2&size=1",
            "GET /items?page=3&size=1"
        ]
    );
    gaps(&api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_pause_below_the_buffer_until_the_window_renews() {
    // Default buffer: 5% of the limit. 5 left is enough; 4 left pauses before the next request.
    let g = paged_quota([5, 4, 4], json!({})).await;
    assert!(g[0] < 0.5, "{g:?}");
    assert!((0.95..1.6).contains(&g[1]), "{g:?}");
    // A buffer of 2 from the config: 4 left is enough.
    let g = paged_quota([5, 4, 4], json!({"rate_limit_buffer": 2})).await;
    assert!(g.iter().all(|g| *g < 0.5), "{g:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_longer_than_allowed_fails_the_run_in_one_line() {
    let api = Api::start(|_| Reply::status(429, "later").header("retry-after", 120)).await;
    let files = Files::new(
        &defs("", r#"{ kind = "none" }"#),
        &[("items", schema(&[("id", "integer")]))],
        &json!({"api_url": api.url, "max_rate_limit_wait_s": 2}),
    );
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = files.run(&[]).await;
    assert!(started.elapsed() < Duration::from_secs(2), "no waiting");
    assert_eq!(code, 1);
    assert_eq!(api.lines(), ["GET /items"]);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(
        errors,
        [
            "tap-rest: error: rate limited: 429 with retry-after 120s: the wait of 120s exceeds max_rate_limit_wait_s (2s)"
        ],
        "{stderr}"
    );
    assert!(!stdout.contains("RECORD"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_then_given_up() {
    let d = defs("", r#"{ kind = "none" }"#);
    // Two 503s, then the answer.
    let n = AtomicUsize::new(0);
    let api = Api::start(move |_| match n.fetch_add(1, Ordering::SeqCst) {
        0 | 1 => Reply::status(503, "busy"),
        _ => Reply::json(json!([{"id": 1}])),
    })
    .await;
    assert_eq!(run(&api, &d, json!({})).await, Ok(vec![json!(1)]));
    assert_eq!(api.lines(), ["GET /items", "GET /items", "GET /items"]);

    // A request slower than the timeout is retried like a 5xx.
    let n = AtomicUsize::new(0);
    let api = Api::start(move |_| {
        let reply = Reply::json(json!([{"id": 2}]));
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            reply.after(Duration::from_millis(1_500))
        } else {
            reply
        }
    })
    .await;
    assert_eq!(
        run(&api, &d, json!({"request_timeout_s": 1})).await,
        Ok(vec![json!(2)])
    );
    assert_eq!(api.lines().len(), 2);

    // Always failing: the first try and `max_retries` more.
    let api = Api::start(|_| Reply::status(502, "down")).await;
    let err = run(&api, &d, json!({"max_retries": 2})).await.unwrap_err();
    assert_eq!(
        err,
        format!("{}/items: 502 down (gave up after 2 retries)", api.url)
    );
    assert_eq!(api.lines().len(), 3);
}
