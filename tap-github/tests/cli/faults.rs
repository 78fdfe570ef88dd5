//! Each fault kind alone, and all together: the output is still complete and correct.

use std::str::FromStr;

use fake_github::FaultSpec;
use serde_json::json;

use crate::support::*;

/// Runs the tap under `spec` with `settings`, checks the output equals the truth and that every
/// fault kind of the spec fired; returns the run.
fn complete_despite_with(spec: &str, settings: serde_json::Value) -> Run {
    let fake = start(two_repos().faults(FaultSpec::from_str(spec).unwrap()));
    let mut config = json!({"max_retries": 8, "max_rate_limit_wait_s": 30});
    for (k, v) in settings.as_object().unwrap() {
        config[k] = v.clone();
    }
    let dir = setup(&fake, config);
    let run = run_ok(&dir, None, &[]);
    for (stream, expected) in truth_keys(&fake, &["octo/app", "octo/lib"]) {
        assert_eq!(
            unique_keys(stream, &run.records(stream)),
            expected,
            "{stream} under {spec}"
        );
    }
    let stats = fake.stats();
    for rule in spec.split(',') {
        let kind = rule.split(':').next().unwrap();
        assert!(
            stats.faults.get(kind).is_some_and(|n| *n > 0),
            "{kind} fired: {:?}",
            stats.faults
        );
    }
    run
}

fn complete_despite(spec: &str) {
    complete_despite_with(spec, json!({}));
}

#[test]
fn an_answer_slower_than_the_request_timeout_is_retried() {
    let run = complete_despite_with("slow:every=4:ms=1500", json!({"request_timeout_s": 1}));
    assert!(
        run.stderr.contains("timeout"),
        "the slow answers timed out and were retried: {}",
        run.stderr
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
