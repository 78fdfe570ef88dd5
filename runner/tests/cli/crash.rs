//! Killed processes: a SIGKILLed target keeps exactly what its stored bookmark covers, a
//! SIGKILLed tapline leaves no orphans, and a rerun completes the load without duplicates.

use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

const REPOS: [&str; 4] = ["octo/a", "octo/b", "octo/c", "octo/d"];

/// Four repositories synced one after the other, slowly enough to kill something mid-run.
fn slow_pipeline() -> (fake_github::RunningFake, Pipeline) {
    let repos: Vec<(&str, u32, u32)> = REPOS.iter().map(|r| (*r, 2500, 0)).collect();
    let fake = fake(&repos, 30, None);
    let p = Pipeline::github(&fake, &REPOS, ", max_concurrency = 1", "");
    (fake, p)
}

/// Waits until a bookmark is stored: the target has committed rows, the load goes on.
fn wait_for_bookmark(p: &Pipeline) {
    let stored = || p.path().join(".tapline/state.db").exists() && p.state().is_some();
    assert!(
        wait_for(Duration::from_secs(60), stored),
        "no bookmark stored"
    );
}

fn truth_shas(fake: &fake_github::RunningFake) -> std::collections::BTreeSet<String> {
    REPOS.iter().flat_map(|r| truth_keys(fake, r).0).collect()
}

#[test]
fn killing_the_target_keeps_what_the_stored_bookmark_covers_and_a_rerun_completes() {
    let (fake, p) = slow_pipeline();
    let mut run = p
        .command(&["run", "--select", "commits"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A bookmark stored means the target committed rows; the load is not over yet.
    wait_for_bookmark(&p);
    let target = children(run.id())
        .into_iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.contains("target-sqlite"))
        })
        .expect("target-sqlite runs");
    signal(target, nix::sys::signal::Signal::SIGKILL);
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(1), "a killed target fails the run");
    let committed = p.rows("commits");
    assert!(
        committed > 0 && committed < 10_000,
        "0 < {committed} < 10000"
    );
    // Every committed repository is complete: the stored bookmark covers exactly those rows.
    let state = p.state().unwrap();
    let done = state["bookmarks"]["commits"]["partitions"]
        .as_array()
        .map_or(0, Vec::len) as i64;
    assert_eq!(
        committed,
        done * 2500,
        "rows {committed} vs {done} finished repositories in the bookmark"
    );
    let out = p.tapline(&["run", "--select", "commits"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.keys("commits", "sha"), truth_shas(&fake));
}

#[test]
fn killing_tapline_leaves_no_orphans_and_a_rerun_completes() {
    let (fake, p) = slow_pipeline();
    let mut run = p
        .command(&["run", "--select", "commits"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(60), || children(run.id()).len() >= 2
            && fake.stats().total > 3),
        "children started"
    );
    let kids = children(run.id());
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(
        wait_for(Duration::from_secs(5), || kids.iter().all(|k| !alive(*k))),
        "orphans left: {kids:?}"
    );
    let out = p.tapline(&["run", "--select", "commits"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.keys("commits", "sha"), truth_shas(&fake));
}

#[test]
fn sigterm_stops_the_run_keeps_the_state_and_exits_130() {
    let (fake, p) = slow_pipeline();
    let run = p
        .command(&["run", "--select", "commits", "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_bookmark(&p);
    let kids = children(run.id());
    signal(run.id(), nix::sys::signal::Signal::SIGTERM);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "interrupted");
    assert!(kids.iter().all(|k| !alive(*k)), "children reaped");
    assert!(p.state().is_some(), "the stored bookmark is kept");
    let out = p.tapline(&["run", "--select", "commits"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.keys("commits", "sha"), truth_shas(&fake));
}
