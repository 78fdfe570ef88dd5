//! `[state] url`: bookmarks, run history and the run lock in a real PostgreSQL (a throwaway
//! cluster, `target-postgres/testsupport/cluster.rs`).

use std::process::Stdio;
use std::time::Duration;

use crate::cluster::{self, Database};
use crate::support::*;

/// The `[state]` section of a pipeline keeping its state in `db`.
pub fn state_section(db: &Database) -> String {
    format!(
        "[state]\nurl = \"host={} user=postgres dbname={}\"\n",
        db.host.display(),
        db.name
    )
}

/// The stored bookmark of pipeline `github`, read straight from the database.
fn stored(db: &Database) -> Option<String> {
    let mut client = db.client();
    let exists: bool = client
        .query_one("SELECT to_regclass('tapline_state') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    if !exists {
        return None;
    }
    client
        .query_opt(
            "SELECT value FROM tapline_state WHERE pipeline = 'github' AND slot = 'current'",
            &[],
        )
        .unwrap()
        .map(|r| r.get(0))
}

#[test]
fn two_runners_started_at_once_one_runs_the_other_is_refused() {
    let fake = fake(&[("octo/app", 1500, 10)], 60, None);
    let db = cluster::database();
    let p = Pipeline::github(
        &fake,
        &["octo/app"],
        ", max_concurrency = 1",
        &state_section(&db),
    );
    let start = || {
        p.command(&["run", "--select", "commits", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "one runs, one is refused: {codes:?}\n{}\n{}",
        stderr(&outs[0]),
        stderr(&outs[1])
    );
    let refused = outs.iter().find(|o| o.status.code() == Some(1)).unwrap();
    assert!(
        stderr(refused).contains(
            "pipeline `github` is already running (advisory lock in the state database postgres@"
        ),
        "{}",
        stderr(refused)
    );
    let runs = db.rows("SELECT status FROM tapline_runs");
    assert_eq!(
        runs,
        serde_json::json!([{"status": "success"}]),
        "the refused run left no history"
    );
    let state = p.state().expect("the run's bookmark is in PostgreSQL");
    assert!(state["bookmarks"]["commits"].is_object(), "{state}");
    assert!(
        !p.path().join(".tapline/state.db").exists(),
        "no SQLite state beside the pipeline"
    );
    assert_eq!(p.rows("commits"), 1500);
    assert!(
        p.tapline(&["run", "--select", "commits"]).status.success(),
        "the lock is released at the end"
    );
}

#[test]
fn a_run_whose_lock_connection_is_killed_stops_without_writing_state_after_it() {
    let repos = ["o/r1", "o/r2", "o/r3", "o/r4", "o/r5", "o/r6"];
    let sizes: Vec<(&str, u32, u32)> = repos.iter().map(|r| (*r, 1000, 5)).collect();
    let fake = fake(&sizes, 50, None);
    let db = cluster::database();
    let p = Pipeline::github(&fake, &repos, ", max_concurrency = 1", &state_section(&db));
    let run = p
        .command(&["run", "--select", "commits", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(60), || stored(&db).is_some()),
        "a first bookmark is stored"
    );
    let killed: Vec<bool> = db
        .client()
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        killed,
        [true],
        "the run's lock connection was found and killed"
    );
    let at_loss = stored(&db);
    let out = run.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("pipeline `github` lost its run lock"), "{err}");
    assert_eq!(stored(&db), at_loss, "no bookmark written after the loss");
    let state: serde_json::Value = serde_json::from_str(&at_loss.unwrap()).unwrap();
    let done = state["bookmarks"]["commits"]["partitions"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(done < repos.len(), "the run stopped early: {state}");
    let before = fake.stats().total;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fake.stats().total, before, "the tap is stopped");
    let next = p.tapline(&["run", "--select", "commits", "--quiet"]);
    assert!(next.status.success(), "{}", stderr(&next));
    assert_eq!(p.rows("commits"), 6000, "the next run finishes the job");
}
