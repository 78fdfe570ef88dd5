//! Successful runs: full, incremental, full refresh, selection, JSON summary.

use crate::support::*;

#[test]
fn full_run_equals_truth_then_incremental_fetches_only_new_data() {
    let fake = fake(&[("octo/app", 250, 80), ("octo/lib", 120, 30)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app", "octo/lib"], "", "");
    let out = p.tapline(&["run", "--output", "json", "--select", "commits,issues"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "success");
    assert_eq!(report["records"]["commits"], 370);
    assert_eq!(report["records"]["issues"], 110);
    assert!(report["requests"].as_u64().unwrap() >= 4);
    assert!(
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["table"] == "commits" && t["rows"] == 370)
    );
    let (app_commits, app_issues) = truth_keys(&fake, "octo/app");
    let (lib_commits, lib_issues) = truth_keys(&fake, "octo/lib");
    assert_eq!(
        p.keys("commits", "sha"),
        app_commits.union(&lib_commits).cloned().collect()
    );
    assert_eq!(
        p.keys("issues", "id"),
        app_issues.union(&lib_issues).cloned().collect()
    );
    assert!(p.state().is_some());

    fake.mutate(
        "octo/app",
        fake_github::Mutation {
            new_commits: 5,
            update_issues: 3,
            new_issues: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let before = fake.stats().total;
    let out = p.tapline(&["run", "--output", "json", "--select", "commits,issues"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let requests = fake.stats().total - before;
    assert!(
        requests <= 5,
        "incremental run made {requests} requests (2 streams x 2 repos, plus compare for the changed one)"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let commits = report["records"]["commits"].as_u64().unwrap();
    assert_eq!(commits, 5, "exactly the new commits, through compare");
    let (app_commits, app_issues) = truth_keys(&fake, "octo/app");
    assert_eq!(
        p.keys("commits", "sha"),
        app_commits.union(&lib_commits).cloned().collect()
    );
    assert_eq!(
        p.keys("issues", "id"),
        app_issues.union(&lib_issues).cloned().collect()
    );
}

#[test]
fn full_refresh_ignores_and_then_replaces_the_state() {
    let fake = fake(&[("octo/app", 150, 20)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    assert!(p.tapline(&["run", "--select", "commits"]).status.success());
    let first = p.state().unwrap();
    fake.mutate(
        "octo/app",
        fake_github::Mutation {
            new_commits: 3,
            ..Default::default()
        },
    )
    .unwrap();
    let out = p.tapline(&[
        "run",
        "--full-refresh",
        "--select",
        "commits",
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["records"]["commits"], 153,
        "a full refresh reads everything again"
    );
    let second = p.state().unwrap();
    assert_ne!(first, second);
    assert_eq!(p.rows("commits"), 153);
}

#[test]
fn select_and_the_properties_flag_sync_only_the_chosen_streams() {
    let fake = fake(&[("octo/app", 60, 20)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    let toml = toml.replace(
        "[target]",
        "select = [\"issues\"]\ncatalog_flag = \"--properties\"\n[target]",
    );
    std::fs::write(p.path().join("tapline.toml"), toml).unwrap();
    let before = fake.stats();
    let out = p.tapline(&["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.rows("issues"), 20);
    assert_eq!(p.rows("commits"), 0, "commits were not selected");
    let after = fake.stats();
    let commit_requests: u64 = after
        .by_path
        .iter()
        .filter(|(path, _)| path.contains("/commits"))
        .map(|(_, s)| s.values().sum::<u64>())
        .sum::<u64>()
        - before
            .by_path
            .iter()
            .filter(|(path, _)| path.contains("/commits"))
            .map(|(_, s)| s.values().sum::<u64>())
            .sum::<u64>();
    assert_eq!(commit_requests, 0);
}

#[test]
fn any_executable_is_a_tap_and_configs_are_relative_to_the_pipeline_file() {
    let p = script_pipeline("");
    let fixture = r#"{"type":"SCHEMA","stream":"things","schema":{"properties":{"id":{"type":"integer"},"name":{"type":"string"}}},"key_properties":["id"]}
{"type":"RECORD","stream":"things","record":{"id":1,"name":"a"}}
{"type":"RECORD","stream":"things","record":{"id":2,"name":"b"}}
{"type":"STATE","value":{"bookmarks":{"things":{"id":2}}}}
"#;
    std::fs::write(p.path().join("fixture.singer"), fixture).unwrap();
    script(
        &p,
        "tap.sh",
        "# the config arrives as a file\ntest -f \"$2\" || exit 9\ncat fixture.singer",
    );
    let out = p.tapline(&["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.rows("things"), 2);
    assert_eq!(
        p.state(),
        Some(serde_json::json!({"bookmarks": {"things": {"id": 2}}}))
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("things") && text.contains("2 rows"), "{text}");
}
