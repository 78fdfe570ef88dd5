//! Incremental runs: after a change, exactly the new and boundary records; without a change,
//! one conditional request per stream and repository, answered 304.

use std::collections::BTreeSet;

use fake_github::Mutation;
use serde_json::{Value, json};

use crate::support::*;

/// `replication_key_value` of `stream` for `repo` in a state.
fn bookmark(state: &Value, stream: &str, repo: &str) -> String {
    state["bookmarks"][stream]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["context"]["repository"] == repo)
        .and_then(|p| p["replication_key_value"].as_str())
        .unwrap_or_else(|| panic!("no bookmark for {stream} {repo}: {state}"))
        .to_owned()
}

#[test]
fn second_run_gets_exactly_new_and_boundary_records() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let first = run_ok(&dir, None, &[]);
    let state = first.last_state();
    fake.mutate(
        "octo/app",
        Mutation {
            new_commits: 3,
            update_issues: 5,
            new_issues: 4,
            ..Default::default()
        },
    )
    .unwrap();
    fake.mutate(
        "octo/lib",
        Mutation {
            new_commits: 1,
            update_issues: 2,
            new_issues: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let second = run_ok(&dir, Some(&state), &[]);

    let mut expected: std::collections::BTreeMap<&str, BTreeSet<String>> = Default::default();
    for repo in ["octo/app", "octo/lib"] {
        let t = fake.truth(repo).unwrap();
        let since = |s: &str| bookmark(&state, s, repo);
        let r = json!(repo).to_string();
        expected.entry("commits").or_default().extend(
            t.commits
                .iter()
                .filter(|c| c.committer_date >= since("commits"))
                .map(|c| format!("{r}|{}", json!(c.sha))),
        );
        expected.entry("issues").or_default().extend(
            t.issues
                .iter()
                .filter(|i| i.updated_at >= since("issues"))
                .map(|i| i.id.to_string()),
        );
        expected.entry("pull_requests").or_default().extend(
            t.issues
                .iter()
                .filter(|i| i.updated_at >= since("pull_requests"))
                .filter_map(|i| i.pr_id)
                .map(|i| i.to_string()),
        );
        expected.entry("issue_comments").or_default().extend(
            t.comments
                .iter()
                .filter(|c| c.updated_at >= since("issue_comments"))
                .map(|c| c.id.to_string()),
        );
        // The new commits are there, and (`since` being inclusive) the previous head again.
        let new_heads: Vec<_> = t
            .commits
            .iter()
            .take(if repo == "octo/app" { 4 } else { 2 })
            .map(|c| format!("{r}|{}", json!(c.sha)))
            .collect();
        assert!(new_heads.iter().all(|k| expected["commits"].contains(k)));
    }
    for (stream, keys) in &expected {
        assert_eq!(
            &unique_keys(stream, &second.records(stream)),
            keys,
            "{stream}"
        );
    }
    assert_eq!(
        expected["commits"].len(),
        6,
        "3 + 1 new commits and 2 boundary commits"
    );
    assert!(
        expected["issues"].len() >= 12,
        "7 updated + 5 new issues: {}",
        expected["issues"].len()
    );
    assert!(expected["issue_comments"].len() >= 7);
    // Full-table streams come whole again.
    assert_eq!(
        second.records("releases").len(),
        first.records("releases").len()
    );
    // Bookmarks moved forward.
    let new_state = second.last_state();
    for s in ["commits", "issues", "pull_requests", "issue_comments"] {
        assert!(
            bookmark(&new_state, s, "octo/app") > bookmark(&state, s, "octo/app"),
            "{s}"
        );
    }
}

#[test]
fn no_change_run_is_one_304_per_incremental_stream_and_repo() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let incremental = ["commits", "issues", "pull_requests", "issue_comments"];
    let catalog = catalog_selecting(&dir, &incremental);
    let catalog = write(&dir, "catalog.json", &catalog);
    let first = run_ok(&dir, None, &["--catalog", &catalog]);
    // The first run after a full one learns the ETag of the bookmark's request.
    let second = run_ok(&dir, Some(&first.last_state()), &["--catalog", &catalog]);
    let before = fake.stats();
    let third = run_ok(&dir, Some(&second.last_state()), &["--catalog", &catalog]);
    let after = fake.stats();
    assert_eq!(
        after.total - before.total,
        8,
        "one request per stream and repository"
    );
    let n304 = after.by_status.get(&304).copied().unwrap_or(0)
        - before.by_status.get(&304).copied().unwrap_or(0);
    assert_eq!(n304, 8, "all of them 304: {after:?}");
    assert!(third.streams().is_empty(), "no records");
    assert_eq!(
        third.last_state(),
        second.last_state(),
        "bookmarks unchanged"
    );
}

#[test]
fn untouched_bookmarks_are_carried_forward() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let catalog = catalog_selecting(&dir, &["issues"]);
    let catalog = write(&dir, "catalog.json", &catalog);
    let old = json!({"bookmarks": {"gone": {"x": 1}, "commits": {"partitions": [{"context": {"repository": "old/repo"}, "replication_key_value": "2020-01-01T00:00:00Z"}]}}, "custom": true});
    let run = run_ok(&dir, Some(&old), &["--catalog", &catalog]);
    let state = run.last_state();
    assert_eq!(state["bookmarks"]["gone"], old["bookmarks"]["gone"]);
    assert_eq!(state["bookmarks"]["commits"], old["bookmarks"]["commits"]);
    assert_eq!(state["custom"], true);
    assert!(
        state["bookmarks"]["issues"]["partitions"]
            .as_array()
            .unwrap()
            .len()
            == 2
    );
}
