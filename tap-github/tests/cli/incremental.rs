//! Incremental runs: after a change, exactly the new and boundary records (commits: exactly the
//! new ones, whatever their dates); without a change, one conditional request per stream and
//! repository, answered 304.

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
        // Commits come through compare from the bookmarked head: exactly the new ones.
        let head = state["bookmarks"]["commits"]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["context"]["repository"] == repo)
            .and_then(|p| p["head"].as_str())
            .unwrap()
            .to_owned();
        expected.entry("commits").or_default().extend(
            t.commits
                .iter()
                .take_while(|c| c.sha != head)
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
        4,
        "3 + 1 new commits, no boundary commit"
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

/// The embedded definitions without commits' head: increments by committer date only.
fn dates_only_definitions(dir: &tempfile::TempDir) -> String {
    let text = tap_github::DEFINITIONS;
    let start = text.find("[stream.head]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    let path = dir.path().join("dates-only.toml");
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
    path.to_string_lossy().into_owned()
}

/// Sets of commit keys per run.
fn commit_keys(runs: &[&Run]) -> BTreeSet<String> {
    runs.iter()
        .flat_map(|r| r.records("commits"))
        .map(|r| key("commits", r))
        .collect()
}

#[test]
fn commits_reaching_the_branch_with_old_dates_come_through_compare() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let catalog = write(&dir, "catalog.json", &catalog_selecting(&dir, &["commits"]));
    let args = ["--catalog", catalog.as_str()];
    let first = run_ok(&dir, None, &args);
    let merged = |age_s: u64, merge_commit: bool| Mutation {
        merged_commits: 3,
        merged_age_s: age_s,
        merge_commit,
        ..Mutation::NONE
    };
    // A branch a day old merged with a merge commit, then one a year old fast-forwarded.
    fake.mutate("octo/app", merged(86_400, true)).unwrap();
    let second = run_ok(&dir, Some(&first.last_state()), &args);
    assert_eq!(
        second.records("commits").len(),
        4,
        "3 merged + the merge commit"
    );
    fake.mutate("octo/app", merged(365 * 86_400, false))
        .unwrap();
    let third = run_ok(&dir, Some(&second.last_state()), &args);
    assert_eq!(
        third.records("commits").len(),
        3,
        "the fast-forwarded commits"
    );
    let truth = &truth_keys(&fake, &["octo/app", "octo/lib"])["commits"];
    assert_eq!(&commit_keys(&[&first, &second, &third]), truth);

    // Nothing new: one probe per repository, answered 304, whatever moved before.
    let before = fake.stats();
    let quiet = run_ok(&dir, Some(&third.last_state()), &args);
    let after = fake.stats();
    assert!(quiet.records("commits").is_empty());
    assert_eq!(after.total - before.total, 2);
    assert_eq!(
        after.by_status.get(&304).copied().unwrap_or(0)
            - before.by_status.get(&304).copied().unwrap_or(0),
        2
    );

    // A force-push drops the bookmarked head: the run falls back to dates and says so.
    fake.mutate(
        "octo/app",
        Mutation {
            force_push: 2,
            ..Mutation::NONE
        },
    )
    .unwrap();
    let pushed = run_ok(&dir, Some(&quiet.last_state()), &args);
    assert!(
        pushed.stderr.contains("not an ancestor"),
        "{}",
        pushed.stderr
    );
    let truth = &truth_keys(&fake, &["octo/app", "octo/lib"])["commits"];
    let all = commit_keys(&[&first, &second, &third, &pushed]);
    assert!(all.is_superset(truth), "every commit of the branch");
    assert_eq!(
        all.len() - truth.len(),
        2,
        "only the two dropped ones beyond it"
    );

    // By committer date alone, old merged commits are never loaded.
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let defs = dates_only_definitions(&dir);
    let args = [
        "--catalog",
        catalog.as_str(),
        "--definitions",
        defs.as_str(),
    ];
    let first = run_ok(&dir, None, &args);
    fake.mutate("octo/app", merged(86_400, true)).unwrap();
    let second = run_ok(&dir, Some(&first.last_state()), &args);
    fake.mutate("octo/app", merged(365 * 86_400, false))
        .unwrap();
    let third = run_ok(&dir, Some(&second.last_state()), &args);
    let truth = &truth_keys(&fake, &["octo/app", "octo/lib"])["commits"];
    let missing = truth
        .difference(&commit_keys(&[&first, &second, &third]))
        .count();
    assert_eq!(
        missing, 3,
        "by dates, the week of lookback catches the day-old branch, never the year-old one"
    );
}
