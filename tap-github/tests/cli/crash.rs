//! Kill the tap (SIGKILL) after some STATE lines, rerun from the last STATE it printed: what a
//! target would have committed (records before that STATE) plus the rerun equals the truth.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use fake_github::{FakeGithub, RepoSize};
use serde_json::{Value, json};

use crate::support::*;

/// The streams the killed run syncs.
const SELECTED: [&str; 5] = [
    "commits",
    "issues",
    "issue_comments",
    "pull_requests",
    "pull_request_reviews",
];

#[test]
fn killed_run_resumes_from_its_last_state() {
    let fake = start(
        FakeGithub::builder()
            .seed(3)
            .token(TOKEN)
            .latency(Duration::from_millis(15))
            .repo("octo/app", RepoSize::new(900, 700))
            .repo("octo/lib", RepoSize::new(500, 300)),
    );
    let dir = setup(&fake, json!({"max_concurrency": 2}));
    let catalog = write(&dir, "catalog.json", &catalog_selecting(&dir, &SELECTED));
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config_path(&dir))
        .args(["--catalog", &catalog])
        .env_remove("GITHUB_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut committed: Vec<Value> = Vec::new();
    let mut pending: Vec<Value> = Vec::new();
    let mut states = 0;
    let mut last_state = None;
    for line in lines.by_ref() {
        let m: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if m["type"] == "STATE" {
            states += 1;
            committed.append(&mut pending);
            last_state = Some(m["value"].clone());
            if states == 4 {
                break;
            }
        } else {
            pending.push(m);
        }
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before the end");
    let last_state = last_state.expect("some STATE before the kill");
    let before = committed.iter().filter(|m| m["type"] == "RECORD").count();
    assert!(before > 0);

    let rerun = run_ok(&dir, Some(&last_state), &["--catalog", &catalog]);
    let mut truth = truth_keys(&fake, &["octo/app", "octo/lib"]);
    truth.retain(|s, _| SELECTED.contains(s));
    let mut total_before = 0;
    for (stream, expected) in &truth {
        let mut keys: std::collections::BTreeSet<String> = committed
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == *stream)
            .map(|m| key(stream, m["record"].as_object().unwrap()))
            .collect();
        total_before += keys.len();
        keys.extend(rerun.records(stream).iter().map(|r| key(stream, r)));
        assert_eq!(&keys, expected, "{stream}");
    }
    assert!(total_before > 0, "the killed run had committed records");
    let rerun_total = rerun
        .messages
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .count();
    let all_total: usize = truth.values().map(|s| s.len()).sum();
    assert!(
        rerun_total < all_total,
        "the rerun resumed instead of starting over ({rerun_total} of {all_total})"
    );
}
