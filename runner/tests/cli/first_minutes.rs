//! The first ten minutes: `tapline demo`, `tapline init`, `tapline runs`, and a progress display
//! that never touches stdout.

use std::process::Command;

use crate::support::*;

fn demo(dir: &std::path::Path, no_dbt: bool) -> std::process::Output {
    let mut cmd = Command::new(tapline());
    cmd.arg("demo").arg("--dir").arg(dir);
    if no_dbt {
        cmd.arg("--no-dbt");
    }
    cmd.output().unwrap()
}

/// The demo's "first run / second run" table, as (row, first, second).
fn side_by_side(stdout: &str) -> Vec<(String, f64, f64)> {
    stdout
        .lines()
        .skip_while(|l| !l.contains("first run   second run"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            let n = parts.len();
            Some((
                parts[..n - 2].join(" "),
                parts[n - 2].parse().ok()?,
                parts[n - 1].parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn demo_without_dbt_runs_twice_and_the_second_run_is_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), true);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let table = side_by_side(&stdout);
    let row = |name: &str| {
        table
            .iter()
            .find(|(n, ..)| n == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {table:?}"))
    };
    let (_, first, second) = row("commits");
    assert_eq!(first, 4900.0);
    assert_eq!(second, 120.0, "exactly 40 new commits per repository");
    let (_, first_requests, second_requests) = row("requests");
    assert!(
        second_requests < first_requests / 2.0,
        "{first_requests} then {second_requests}"
    );
    assert!(dir.path().join("tapline.toml").is_file());
    assert!(
        dir.path().join("dbt/dbt_project.yml").is_file(),
        "the embedded dbt project is written"
    );
    let db = rusqlite::Connection::open(dir.path().join("github.db")).unwrap();
    let commits: i64 = db
        .query_row("SELECT count(DISTINCT sha) FROM commits", [], |r| r.get(0))
        .unwrap();
    assert_eq!(commits, 4900 + 120);
    assert!(stdout.contains("Next:"), "{stdout}");
    // Running it again starts afresh.
    let again = demo(dir.path(), true);
    assert!(again.status.success(), "{}", stderr(&again));
    let without_seconds = |t: Vec<(String, f64, f64)>| {
        t.into_iter()
            .filter(|(n, ..)| n != "seconds")
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_seconds(side_by_side(&String::from_utf8(again.stdout).unwrap())),
        without_seconds(table)
    );
}

#[test]
fn demo_with_dbt_builds_the_marts() {
    // The managed dbt, as `.ci/run` installs it (installed here when missing).
    let requirements =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbt/requirements.txt");
    tapline::dbt::venv::ensure(&requirements, &mut |l| eprintln!("{l}")).expect("dbt installs");
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), false);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    // One `dbt build` per run: the second run has new activity, so dbt starts once.
    assert_eq!(stdout.matches("dbt build: ok").count(), 2, "{stdout}");
    assert_eq!(stdout.matches("  dbt ").count(), 4, "{stdout}");
    assert!(stdout.contains("tables in main_dbt:"), "{stdout}");
    let marts = rusqlite::Connection::open(dir.path().join("github_dbt/main_dbt.db")).unwrap();
    let commits: i64 = marts
        .query_row("SELECT sum(commits) FROM commits_by_month", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(commits, 4900 + 120);
    // The demo ends with the report's path.
    let report = dir.path().join("report.html");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("Report of the marts: {}", report.display()).as_str()),
        "{stdout}"
    );
    assert!(std::fs::read_to_string(&report).unwrap().contains("<svg"));
}

#[test]
fn init_writes_a_pipeline_that_runs_and_refuses_to_overwrite() {
    let fake = fake(&[("octo/app", 80, 20)], 0, None);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tapline.toml");
    let init = |extra: &[&str]| {
        Command::new(tapline())
            .args([
                "init",
                "--repo",
                "octo/app",
                "--start-date",
                "2019-01-01T00:00:00Z",
                "--api-url",
                &fake.api_url(),
                "-c",
            ])
            .arg(&config)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = init(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tapline run -c"),
        "says how to run it: {}",
        stderr(&out)
    );
    assert!(dir.path().join("dbt/dbt_project.yml").is_file());
    let out = init(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exists; use --force"));
    assert!(init(&["--force"]).status.success());
    let out = Command::new(tapline())
        .args(["run", "--no-dbt", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let db = rusqlite::Connection::open(dir.path().join("data/github.db")).unwrap();
    let commits: i64 = db
        .query_row("SELECT count(*) FROM commits", [], |r| r.get(0))
        .unwrap();
    assert_eq!(commits, 80);
}

#[test]
fn runs_lists_successes_and_failures() {
    let fake = fake(&[("octo/app", 30, 5)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    assert!(p.tapline(&["run", "--select", "commits"]).status.success());
    // A run that fails: the target cannot open its database (a file stands where its folder
    // should be).
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        toml.replace(
            "database = \"data/github.db\"",
            "database = \"data/github.db/inner.db\"",
        ),
    )
    .unwrap();
    assert_eq!(
        p.tapline(&["run", "--select", "commits"]).status.code(),
        Some(1)
    );
    let out = p.tapline(&["runs", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["status"], "failed");
    assert!(
        runs[0]["error"]
            .as_str()
            .unwrap()
            .contains("target-sqlite failed"),
        "{}",
        runs[0]
    );
    assert_eq!(runs[1]["status"], "success");
    assert_eq!(runs[1]["records"]["commits"], 30);
    assert!(runs[1]["requests"].as_i64().unwrap() >= 1);
    let text = String::from_utf8(p.tapline(&["runs"]).stdout).unwrap();
    assert!(
        text.lines().count() >= 4 && text.contains("success") && text.contains("error:"),
        "{text}"
    );
}

#[test]
fn progress_never_touches_stdout() {
    let fake = fake(&[("octo/app", 2000, 50)], 5, None);
    let p = Pipeline::github(&fake, &["octo/app"], ", max_concurrency = 1", "");
    let out = p
        .command(&["run", "--output", "json", "--select", "commits,issues"])
        .env("TAPLINE_PROGRESS_EVERY_MS", "20")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tapline: commits "),
        "plain progress lines on a non-terminal: {}",
        stderr(&out)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "stdout is the JSON summary alone: {text}"
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["records"]["commits"], 2000);
    let quiet = p
        .command(&["run", "--quiet", "--full-refresh", "--select", "commits"])
        .env("TAPLINE_PROGRESS_EVERY_MS", "20")
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(
        !stderr(&quiet).contains("tapline: commits "),
        "--quiet shows no progress: {}",
        stderr(&quiet)
    );
}
