//! The source changes under the sync. fake-github churns (issues, pull requests and comments
//! updated, commits pushed, year-old branches merged) every few requests while a pipeline runs;
//! `/issues` pages with an offset cursor, as real cursors promise nothing. After three disturbed
//! runs and one quiet run the database equals the fake's truth, field by field, for every
//! incremental stream. With the protection switched off (no re-anchoring for the ascending
//! streams, dates only for commits) the same runs lose rows: each test shows both.
//!
//! `pull_requests` is read newest first: a change can only push records forward onto pages
//! already read (read twice, upserted once), never out of reach, and an item changed after its
//! page was read is newer than the bookmark taken from the first page. There is no switch whose
//! removal loses rows there, so its test shows only the exact result. `pull_request_reviews`
//! follows it (the reviews of every pull request read, before its bookmark): a review the churn
//! adds updates its pull request, which the next run reads again.

use fake_github::{FakeGithub, IssueCursor, RepoSize, RunningFake};

use crate::support::*;
use crate::truth::{assert_equals_truth, missing_keys};

const REPO: &str = "octo/app";
const CHURN: &str =
    "churn:every=2:issues=3:pulls=2:comments=3:commits=1:old_commits=2:age_s=31536000";

fn churning() -> RunningFake {
    let builder = FakeGithub::builder()
        .seed(11)
        .repo(REPO, RepoSize::new(500, 600))
        .issue_cursor(IssueCursor::Offset)
        .faults(CHURN.parse().unwrap());
    RunningFake::start_blocking(builder).expect("fake-github starts")
}

/// The embedded definitions with the protection of `stream` removed.
fn unprotected(stream: &str) -> String {
    let text = tap_github::DEFINITIONS;
    if stream == "commits" {
        let start = text.find("[stream.head]").unwrap();
        let end = start + text[start..].find("\n\n").unwrap();
        return format!("{}{}", &text[..start], &text[end..]);
    }
    text.replace("reanchor = true", "reanchor = false")
}

/// A pipeline on [`REPO`] of `fake`, one partition at a time (so the churn lands the same way
/// every time); with `protected` false its tap runs [`unprotected`] definitions.
fn pipeline(fake: &RunningFake, stream: &str, protected: bool) -> Pipeline {
    let p = Pipeline::github(fake, &[REPO], ", max_concurrency = 1", "");
    if protected {
        return p;
    }
    let defs = p.path().join("unprotected.toml");
    std::fs::write(&defs, unprotected(stream)).unwrap();
    script(
        &p,
        "tap.sh",
        &format!(
            "exec {} --definitions {} \"$@\"",
            sibling("tap-github").display(),
            defs.display()
        ),
    );
    let text = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    let text = text.replacen(
        &format!("executable = \"{}\"", sibling("tap-github").display()),
        "executable = \"./tap.sh\"",
        1,
    );
    std::fs::write(p.path().join("tapline.toml"), text).unwrap();
    p
}

/// Three disturbed runs of `stream`, then a quiet one; returns the pipeline.
fn disturbed_then_quiet(fake: &RunningFake, stream: &str, protected: bool) -> Pipeline {
    let p = pipeline(fake, stream, protected);
    for _ in 0..3 {
        let out = p.tapline(&["run", "--select", stream, "--quiet"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert!(
        fake.stats().churns > 0,
        "the source changed during the runs"
    );
    fake.world().set_calm(true);
    let out = p.tapline(&["run", "--select", stream, "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    p
}

fn exact_under_change(stream: &str) {
    let fake = churning();
    let p = disturbed_then_quiet(&fake, stream, true);
    let rows = assert_equals_truth(&p.db(), &fake, &[REPO], &[stream]);
    assert!(rows > 100, "{rows} rows checked");
}

fn loses_rows_unprotected(stream: &str) {
    let fake = churning();
    let p = disturbed_then_quiet(&fake, stream, false);
    let missing = missing_keys(&p.db(), &fake, &[REPO], stream);
    eprintln!("{stream}: {missing} rows lost unprotected");
    assert!(
        missing > 0,
        "{stream}: the disturbance must cost rows unprotected"
    );
}

#[test]
fn issues_are_exact_under_change() {
    exact_under_change("issues");
}

#[test]
fn issues_lose_rows_without_reanchoring() {
    loses_rows_unprotected("issues");
}

#[test]
fn issue_comments_are_exact_under_change() {
    exact_under_change("issue_comments");
}

#[test]
fn issue_comments_lose_rows_without_reanchoring() {
    loses_rows_unprotected("issue_comments");
}

#[test]
fn commits_are_exact_under_change() {
    exact_under_change("commits");
}

#[test]
fn commits_lose_rows_by_dates_alone() {
    loses_rows_unprotected("commits");
}

#[test]
fn pull_requests_are_exact_under_change() {
    exact_under_change("pull_requests");
}

#[test]
fn pull_request_reviews_are_exact_under_change() {
    exact_under_change("pull_request_reviews");
}
