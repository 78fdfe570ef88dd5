//! `tapline run --shard K/N`: workers split the repositories, bookmarks merge per partition in
//! the shared state, full-table streams run in one unsharded step, dbt runs once after.

use std::collections::BTreeMap;
use std::process::Stdio;

use crate::cluster;
use crate::shared_state::state_section;
use crate::support::*;
use crate::truth::assert_pg_equals_truth;

const REPOS: [&str; 9] = [
    "acme/api",
    "acme/web",
    "acme/cli",
    "acme/docs",
    "acme/infra",
    "acme/sdk",
    "acme/mobile",
    "acme/data",
    "acme/site",
];
const SHARDED: [&str; 5] = [
    "commits",
    "issues",
    "pull_requests",
    "pull_request_reviews",
    "issue_comments",
];
const FULL_TABLE: &str = "repositories,releases,stargazers,contributors";

fn fake_org() -> fake_github::RunningFake {
    let sizes: Vec<(&str, u32, u32)> = REPOS
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, 120 + 40 * i as u32, 20 + 5 * i as u32))
        .collect();
    fake(&sizes, 5, None)
}

/// Requests per API path (per repository and stream), any status.
fn requests(fake: &fake_github::RunningFake) -> BTreeMap<String, u64> {
    fake.stats()
        .by_path
        .into_iter()
        .map(|(path, by_status)| (path, by_status.values().sum()))
        .collect()
}

/// The GitHub pipeline on `fake` into schema `github` of `db`, its state in `db` too.
fn into_postgres(fake: &fake_github::RunningFake, db: &cluster::Database) -> Pipeline {
    let repos: Vec<String> = REPOS.iter().map(|r| format!("\"{r}\"")).collect();
    Pipeline::with_text(&format!(
        r#"name = "github"
[tap]
executable = "{tap}"
config = {{ repositories = [{repos}], start_date = "2019-01-01T00:00:00Z", api_url = "{api}", max_concurrency = 2 }}
[target]
executable = "{target}"
config = {{ host = "{host}", user = "postgres", database = "{name}", schema = "github" }}
{state}"#,
        tap = sibling("tap-github").display(),
        target = sibling("target-postgres").display(),
        repos = repos.join(", "),
        api = fake.api_url(),
        host = db.host.display(),
        name = db.name,
        state = state_section(db),
    ))
}

#[test]
fn three_shards_in_parallel_give_the_truth_extracting_each_partition_once() {
    let fake = fake_org();
    let db = cluster::database();
    let p = into_postgres(&fake, &db);
    let started = std::time::Instant::now();
    let shards: Vec<_> = (1..=3)
        .map(|k| {
            p.command(&["run", "--shard", &format!("{k}/3"), "--quiet"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (k, shard) in shards.into_iter().enumerate() {
        let out = shard.wait_with_output().unwrap();
        assert!(out.status.success(), "shard {}/3: {}", k + 1, stderr(&out));
    }
    let out = p.tapline(&["run", "--select", FULL_TABLE, "--quiet"]);
    assert!(out.status.success(), "unsharded step: {}", stderr(&out));
    let sharded_took = started.elapsed();
    let mut streams = SHARDED.to_vec();
    // The fake keeps no truth of `repositories`.
    streams.extend(FULL_TABLE.split(',').filter(|s| *s != "repositories"));
    let mut client = db.client();
    client.batch_execute("SET search_path = github").unwrap();
    let rows = assert_pg_equals_truth(&mut client, &fake, &REPOS, &streams);
    eprintln!("shards: 3 shards + the full-table step equal the truth ({rows} rows compared)");

    // The same pipeline unsharded, against an identical fake: every path was asked as often.
    let alone = fake_org();
    let q = Pipeline::github(&alone, &REPOS, ", max_concurrency = 2", "");
    let started = std::time::Instant::now();
    let out = q.tapline(&["run", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    eprintln!(
        "shards: 3 shards then the full-table step {sharded_took:.1?}; one unsharded run into SQLite {:.1?}; {} requests each",
        started.elapsed(),
        fake.stats().total
    );
    let (sharded, unsharded) = (requests(&fake), requests(&alone));
    let differ: Vec<String> = unsharded
        .iter()
        .filter(|(path, n)| sharded.get(*path) != Some(n))
        .map(|(path, n)| format!("{path}: {:?} sharded, {n} unsharded", sharded.get(path)))
        .collect();
    assert!(
        differ.is_empty() && sharded.len() == unsharded.len(),
        "no partition extracted twice: {differ:?}"
    );

    // The bookmarks of every shard were merged: each repository has its own.
    let state = p.state().expect("a state");
    for stream in ["commits", "issues", "issue_comments"] {
        let parts = state["bookmarks"][stream]["partitions"].as_array().unwrap();
        assert_eq!(parts.len(), REPOS.len(), "{stream}: {state}");
    }
    // A second round finds nothing new: every shard resumed from its own bookmarks.
    for k in 1..=3 {
        let out = p.tapline(&["run", "--shard", &format!("{k}/3"), "--output", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let commits = report["records"]["commits"].as_u64().unwrap_or(0);
        assert_eq!(commits, 0, "shard {k}: {report}");
    }
}

#[test]
fn a_shard_of_another_n_is_refused_while_shards_run_and_full_refresh_is_unsharded() {
    let fake = fake(&[("acme/api", 3000, 5), ("acme/web", 3000, 5)], 40, None);
    let db = cluster::database();
    let p = Pipeline::github(
        &fake,
        &["acme/api", "acme/web"],
        ", max_concurrency = 1",
        &state_section(&db),
    );
    let mut first = p
        .command(&["run", "--shard", "1/2", "--select", "commits", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(std::time::Duration::from_secs(20), || fake.stats().total
            > 0),
        "the first shard started"
    );
    let other_n = p.tapline(&["run", "--shard", "2/3", "--select", "commits"]);
    assert_eq!(other_n.status.code(), Some(1));
    assert!(
        stderr(&other_n)
            .contains("is running as 2 shards (shard 1/2 is running); this run asks for 3"),
        "{}",
        stderr(&other_n)
    );
    let same = p.tapline(&["run", "--shard", "1/2", "--select", "commits"]);
    assert!(
        stderr(&same).contains("shard 1/2 of pipeline `github` is already running"),
        "{}",
        stderr(&same)
    );
    let whole = p.tapline(&["run", "--select", "commits"]);
    assert!(
        stderr(&whole).contains("already running"),
        "{}",
        stderr(&whole)
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let refresh = p.tapline(&["run", "--shard", "1/2", "--full-refresh"]);
    assert_eq!(refresh.status.code(), Some(2));
    assert!(
        stderr(&refresh).contains("cannot be used with"),
        "{}",
        stderr(&refresh)
    );
}
