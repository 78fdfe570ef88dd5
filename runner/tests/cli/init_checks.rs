//! `tapline init` checks what it writes and estimates what the first run costs.

use std::process::Command;

use crate::support::*;

fn init(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(tapline())
        .arg("init")
        .arg("-c")
        .arg(dir.join("tapline.toml"))
        .args(args)
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn a_github_address_becomes_owner_name_and_the_full_history_is_estimated() {
    let fake = fake(&[("octo/app", 7_000, 10)], 0, None);
    let dir = tempfile::tempdir().unwrap();
    let out = init(
        dir.path(),
        &[
            "--repo",
            "https://github.com/octo/app",
            "--api-url",
            &fake.api_url(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("tapline.toml")).unwrap();
    assert!(text.contains("repositories = [\"octo/app\"]"), "{text}");
    assert!(
        text.contains("# start_date = "),
        "no start date: the full history: {text}"
    );
    let err = stderr(&out);
    assert!(err.contains("octo/app: 7000 commits"), "{err}");
    assert!(
        err.contains("tapline: warning: the first run reads the full history: 7000 commits take about 70 requests"),
        "40 requests are hours of a tokenless quota: {err}"
    );
}

#[test]
fn a_bad_repo_or_start_date_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["--repo", "not-a-repo"],
            "--repo not-a-repo: not a repository",
        ),
        (
            vec!["--repo", "o/r", "--start-date", "yesterday"],
            "--start-date yesterday: not a date",
        ),
    ] {
        let out = init(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("tapline: error: {expected}")),
            "{err}"
        );
        assert!(!dir.path().join("tapline.toml").exists());
    }
}
