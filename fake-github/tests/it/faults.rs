//! Every injected fault, deterministic by request number.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fake_github::{FaultSpec, RepoSize, RunningFake};

use crate::support::{builder, get, raw_get, world_of};

fn spec(s: &str) -> FaultSpec {
    s.parse().unwrap()
}

#[tokio::test]
async fn http_errors_every_nth_request() {
    let (_, app) = world_of(builder().faults(spec("http500:every=3,http502:every=4")));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(get(&app, "/repos/octo/app/commits").await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 500, 502, 200, 500, 200, 502]);
    let r = get(&app, "/rate_limit").await;
    assert_eq!(r.status, StatusCode::OK, "/rate_limit is never faulted");
}

#[tokio::test]
async fn secondary_rate_limit_with_retry_after() {
    let (_, app) = world_of(builder().faults(spec(
        "secondary:every=2,secondary:every=3:status=429:retry=5",
    )));
    assert_eq!(get(&app, "/repos/octo/app").await.status, StatusCode::OK);
    let r = get(&app, "/repos/octo/app").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );
    assert!(
        r.header("x-ratelimit-remaining")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let r = get(&app, "/repos/octo/app").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("5"));
}

#[tokio::test]
async fn primary_budget_then_refusals_until_reset() {
    let (_, app) = world_of(builder().faults(spec("primary:budget=3:reset=2")));
    for k in 1..=3 {
        let r = get(&app, "/repos/octo/app").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some(format!("{}", 3 - k).as_str())
        );
    }
    let refused = get(&app, "/repos/octo/app").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .contains("rate limit exceeded")
    );
    let reset: u64 = refused
        .header("x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset > now && reset <= now + 3,
        "reset {reset} should be about now ({now}) + 2 s"
    );
    assert_eq!(
        get(&app, "/repos/octo/app").await.status,
        StatusCode::FORBIDDEN
    );
    let wait = reset.saturating_sub(now) + 1;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let again = get(&app, "/repos/octo/app").await;
    assert_eq!(again.status, StatusCode::OK, "a new window after the reset");
    assert_eq!(again.header("x-ratelimit-remaining"), Some("2"));
}

#[tokio::test]
async fn primary_can_answer_429() {
    let (_, app) = world_of(builder().faults(spec("primary:budget=1:status=429")));
    assert_eq!(get(&app, "/repos/octo/app").await.status, StatusCode::OK);
    assert_eq!(
        get(&app, "/repos/octo/app").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn slow_and_latency_delay_answers() {
    let (_, app) = world_of(
        builder()
            .faults(spec("slow:every=2:ms=300"))
            .latency(Duration::from_millis(50)),
    );
    let t = Instant::now();
    get(&app, "/repos/octo/app").await;
    let first = t.elapsed();
    let t = Instant::now();
    let r = get(&app, "/repos/octo/app").await;
    let second = t.elapsed();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a slow answer is still a good one"
    );
    assert!(
        first >= Duration::from_millis(50) && first < Duration::from_millis(300),
        "{first:?}"
    );
    assert!(second >= Duration::from_millis(350), "{second:?}");
}

#[test]
fn truncated_body_closes_the_connection_early() {
    let b = fake_github::FakeGithub::builder()
        .repo("octo/app", RepoSize::new(100, 10))
        .faults(spec("truncate:every=2"));
    let fake = RunningFake::start_blocking(b).unwrap();
    let (status, _, body, complete) =
        raw_get(fake.addr(), "/repos/octo/app/commits?per_page=50", "");
    assert_eq!(status, 200);
    assert!(complete);
    let (status, headers, cut, complete) =
        raw_get(fake.addr(), "/repos/octo/app/commits?per_page=50", "");
    assert_eq!(status, 200);
    let declared: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(declared, body.len(), "full Content-Length");
    assert!(
        !complete && cut.len() < declared,
        "got {} of {declared} bytes",
        cut.len()
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&cut).is_err());
}
