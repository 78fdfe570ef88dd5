//! Each fault kind alone, and all together: the output is still complete and correct.

use std::str::FromStr;

use fake_github::FaultSpec;
use serde_json::json;

use crate::support::*;

fn complete_despite(spec: &str) {
    let fake = start(two_repos().faults(FaultSpec::from_str(spec).unwrap()));
    let dir = setup(
        &fake,
        json!({"max_retries": 8, "max_rate_limit_wait_s": 30}),
    );
    let run = run_ok(&dir, None, &[]);
    for (stream, expected) in truth_keys(&fake, &["octo/app", "octo/lib"]) {
        assert_eq!(
            unique_keys(stream, &run.records(stream)),
            expected,
            "{stream} under {spec}"
        );
    }
    assert_eq!(
        run.records("stargazers").len(),
        truth_count(&fake, &["octo/app", "octo/lib"], |c| c.stargazers)
    );
    let stats = fake.stats();
    assert!(
        stats.by_status.keys().any(|s| *s >= 400)
            || spec.starts_with("slow")
            || spec.starts_with("truncate"),
        "the fault fired: {stats:?}"
    );
}

#[test]
fn http_5xx() {
    complete_despite("http500:every=5,http503:every=7");
}

#[test]
fn secondary_rate_limit() {
    complete_despite("secondary:every=6:retry=1,secondary:every=9:status=429:retry=1");
}

#[test]
fn primary_rate_limit() {
    complete_despite("primary:budget=15:reset=1");
}

#[test]
fn truncated_bodies() {
    complete_despite("truncate:every=4");
}

#[test]
fn slow_answers() {
    complete_despite("slow:every=3:ms=300");
}

#[test]
fn all_together() {
    complete_despite(
        "http500:every=7,secondary:every=11:retry=1,primary:budget=25:reset=1,truncate:every=13,slow:every=5:ms=200",
    );
}

#[test]
fn exhausted_retries_fail_with_one_line() {
    let fake = start(two_repos().faults(FaultSpec::from_str("http502:every=1").unwrap()));
    let dir = setup(&fake, json!({"max_retries": 1}));
    let out = cmd(&dir).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("tap-github: error: ") && last.contains("502") && last.contains("gave up"),
        "{stderr}"
    );
}
