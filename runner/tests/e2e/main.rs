//! End to end: `fake-github` → `tap-github | target-sqlite` → `dbt build` from the managed venv,
//! and every mart checked against numbers computed independently from the fake's ground truth;
//! then new activity, an incremental load from the emitted state, `dbt build` again, and the
//! same checks.
//!
//! Needs python3 (3.10+) and, the first time, network access to PyPI: the venv is installed by
//! the same installer `tapline dbt install` uses and then reused from the cache.
#![allow(clippy::unwrap_used, missing_docs)]

mod dbt_runs;
mod expected;
mod harness;
mod marts;

use fake_github::{FakeGithub, Mutation, RepoSize, RunningFake};

use crate::harness::Workspace;

const REPOS: [&str; 2] = ["octo/app", "octo/lib"];

#[test]
fn github_to_marts_full_then_incremental_load() {
    let started = std::time::Instant::now();
    harness::require_python();
    let dbt = harness::install_dbt();
    let bins = harness::build_binaries();
    let fake = RunningFake::start_blocking(
        FakeGithub::builder()
            .seed(7)
            .repo(REPOS[0], RepoSize::new(300, 120))
            .repo(REPOS[1], RepoSize::new(40, 12)),
    )
    .unwrap();
    let ws = Workspace::new(&fake.api_url(), &REPOS);

    // Full load, then dbt.
    let state = ws.load(&bins, None);
    assert!(
        state.contains("bookmarks"),
        "the target printed no bookmarks: {state}"
    );
    let summary = ws.dbt_build(&dbt);
    eprintln!("first dbt build: {summary}");
    check_against_truth(&ws, &fake, "after the full load");

    // New commits, issues and comments; some issues closed and pull requests merged.
    fake.mutate(
        REPOS[0],
        Mutation {
            new_commits: 9,
            update_issues: 20,
            new_issues: 7,
            merged_commits: 4,
            merged_age_s: 40 * 86_400,
            merge_commit: true,
            ..Default::default()
        },
    )
    .unwrap();
    fake.mutate(
        REPOS[1],
        Mutation {
            new_commits: 2,
            update_issues: 3,
            new_issues: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let requests_before = fake.stats().total;
    let state2 = ws.load(&bins, Some(&state));
    let incremental_requests = fake.stats().total - requests_before;
    assert_ne!(state2, state, "the incremental load printed the same state");
    let summary = ws.dbt_build(&dbt);
    eprintln!(
        "second dbt build: {summary} ({incremental_requests} API requests in the incremental load)"
    );
    check_against_truth(&ws, &fake, "after the incremental load");
    eprintln!("e2e finished in {:.1} s", started.elapsed().as_secs_f64());
}

/// Every mart equals what the truth of every repository says.
fn check_against_truth(ws: &Workspace, fake: &RunningFake, when: &str) {
    let truths: Vec<_> = REPOS.iter().map(|r| fake.truth(r).unwrap()).collect();
    let want = expected::from_truth(&truths);
    let got = marts::Marts::read(&ws.marts_db());
    marts::assert_same(
        &format!("staged row counts {when}"),
        &want.staged_counts,
        &got.staged_counts,
    );
    marts::assert_same(
        &format!("commits_by_month {when}"),
        &want.commits_by_month,
        &got.commits_by_month,
    );
    marts::assert_same(
        &format!("commits_by_user {when}"),
        &want.commits_by_user,
        &got.commits_by_user,
    );
    marts::assert_same(
        &format!("issues_by_month {when}"),
        &want.issues_by_month,
        &got.issues_by_month,
    );
    marts::assert_same(
        &format!("issues_by_user {when}"),
        &want.issues_by_user,
        &got.issues_by_user,
    );
    marts::assert_close(
        &format!("issue_resolution_by_month {when}"),
        &want.issue_resolution,
        &got.issue_resolution,
    );
    // The numbers are not trivially empty.
    assert!(want.commits_by_month.len() > 10 && want.issues_by_month.len() > 10);
    if when.contains("incremental") {
        let merges: i64 = want
            .commits_by_month
            .values()
            .map(|r| r.merge_commits)
            .sum();
        assert!(merges > 0, "the truth holds no merge commit {when}");
    }
}
