//! `tapline init --connector gitlab|jira` writes a pipeline that runs against each API's fake
//! (started as a process, the token from the environment), loads every stream, and runs again
//! from its bookmarks.

use std::path::Path;
use std::process::{Command, Output};

use fake_serve::Process;

use crate::support::*;

/// A fake API's binary (built beside `tapline`) on a free port; killed when dropped.
fn fake_process(program: &str, args: &[&str]) -> Process {
    Process::start(&sibling(program), args).unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn tapline_in(dir: &Path, args: &[&str], env: (&str, &str)) -> Output {
    Command::new(tapline())
        .args(args)
        .arg("-c")
        .arg(dir.join("tapline.toml"))
        .env(env.0, env.1)
        .env("PATH", sibling("tap-rest").parent().unwrap())
        .output()
        .unwrap()
}

/// Inits a pipeline for `connector` with `sets`, runs it twice with the secret `env`; returns
/// the records of each run (`--output json`'s `records`).
fn init_and_run_twice(
    connector: &str,
    sets: &[String],
    env: (&str, &str),
) -> (serde_json::Value, serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut init = vec!["init", "--connector", connector];
    for set in sets {
        init.extend(["--set", set.as_str()]);
    }
    let out = tapline_in(dir.path(), &init, env);
    assert!(out.status.success(), "init: {}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("tapline.toml")).unwrap();
    assert!(
        text.contains(&format!("connector = \"{connector}\"")),
        "{text}"
    );
    assert!(!text.contains(env.1), "the secret is not written: {text}");
    assert!(
        !text.contains("[dbt]"),
        "no dbt project for {connector}: {text}"
    );
    let run = || {
        let out = tapline_in(dir.path(), &["run", "--output", "json"], env);
        assert!(out.status.success(), "run: {}", stderr(&out));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["tap"], format!("tap-{connector}"));
        summary["records"].clone()
    };
    let first = run();
    let second = run();
    (first, second, dir)
}

fn rows(dir: &Path, table: &str) -> i64 {
    let db = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "db"))
        .or_else(|| {
            std::fs::read_dir(dir.join("data"))
                .ok()?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|e| e == "db"))
        })
        .expect("the pipeline's database");
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn init_connector_gitlab_runs_against_fake_gitlab() {
    let fake = fake_process(
        "fake-gitlab",
        &[
            "--projects",
            "acme/tools/app:120:30:12",
            "--token",
            "glpat-t",
        ],
    );
    let (first, second, dir) = init_and_run_twice(
        "gitlab",
        &[
            "projects=acme/tools/app".into(),
            format!("api_url={}/api/v4", fake.url()),
        ],
        ("GITLAB_TOKEN", "glpat-t"),
    );
    for (stream, n) in [
        ("projects", 1),
        ("commits", 120),
        ("issues", 30),
        ("merge_requests", 12),
    ] {
        assert_eq!(first[stream], n, "{stream}: {first}");
        assert_eq!(rows(dir.path(), stream), n, "{stream}");
    }
    for stream in ["issue_notes", "merge_request_notes", "releases"] {
        assert!(first[stream].as_i64() > Some(0), "{stream}: {first}");
    }
    assert_eq!(
        second["issues"], 1,
        "from the bookmark (inclusive): {second}"
    );
    assert_eq!(rows(dir.path(), "issues"), 30);
}

#[test]
fn init_connector_jira_runs_against_fake_jira() {
    let fake = fake_process(
        "fake-jira",
        &[
            "--email",
            "ada@example.com",
            "--api-token",
            "jira-t",
            "--issues",
            "40",
        ],
    );
    let (first, second, dir) = init_and_run_twice(
        "jira",
        &[
            format!("base_url={}", fake.url()),
            "email=ada@example.com".into(),
        ],
        ("JIRA_API_TOKEN", "jira-t"),
    );
    assert_eq!(first["issues"], 40, "{first}");
    assert_eq!(rows(dir.path(), "issues"), 40);
    for stream in [
        "issue_comments",
        "issue_worklogs",
        "projects",
        "users",
        "fields",
    ] {
        assert!(first[stream].as_i64() > Some(0), "{stream}: {first}");
    }
    assert!(
        second["issues"].as_i64() < Some(40),
        "the second run reads from its bookmark: {second}"
    );
    assert_eq!(rows(dir.path(), "issues"), 40);
}
