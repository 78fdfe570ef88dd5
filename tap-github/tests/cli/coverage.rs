//! Bookmarks remember what they cover. A start date moved earlier, a newly selected field or a
//! bookmark on another replication key makes a partition read again what it is missing instead
//! of trusting its bookmark or a 304; a lookback reaches back on every incremental mode.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::*;

const REPOS: [&str; 2] = ["octo/app", "octo/lib"];
const INCREMENTAL: [&str; 4] = ["commits", "issues", "pull_requests", "issue_comments"];

/// Rewrites the folder's config with `settings` over the fake's URL, token and repositories.
fn reconfigure(dir: &TempDir, fake: &fake_github::RunningFake, settings: Value) {
    let mut config = json!({"api_url": fake.api_url(), "auth_token": TOKEN, "repositories": REPOS});
    for (k, v) in settings.as_object().unwrap() {
        config[k] = v.clone();
    }
    std::fs::write(config_path(dir), config.to_string()).unwrap();
}

/// Asserts that every incremental record of `run` sits exactly at its partition's bookmark in
/// `state` (the inclusive boundary, sent again), so nothing older was read again.
fn only_boundary(run: &Run, state: &Value) {
    for s in INCREMENTAL {
        let pointer = if s == "commits" {
            "/commit/committer/date"
        } else {
            "/updated_at"
        };
        for r in run.records(s) {
            let repo = &r["_sdc_repository"];
            let bookmark = state["bookmarks"][s]["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["context"]["repository"] == *repo)
                .map(|p| p["replication_key_value"].clone())
                .unwrap();
            let value = Value::Object(r.clone()).pointer(pointer).cloned().unwrap();
            assert_eq!(value, bookmark, "{s}: only the boundary is read again");
        }
    }
}

/// Keys per stream over several runs.
fn keys_of(runs: &[&Run], streams: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    streams
        .iter()
        .map(|s| {
            let keys = runs
                .iter()
                .flat_map(|r| r.records(s))
                .map(|r| key(s, r))
                .collect();
            ((*s).to_owned(), keys)
        })
        .collect()
}

#[test]
fn an_earlier_start_date_reads_what_the_bookmarks_do_not_cover() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({"start_date": "2024-06-01T00:00:00Z"}));
    let first = run_ok(&dir, None, &[]);
    // A quiet run stores the ETags a later run could wrongly trust.
    let second = run_ok(&dir, Some(&first.last_state()), &[]);
    let truth = truth_keys(&fake, &REPOS);
    let before = keys_of(&[&first, &second], &INCREMENTAL);
    for s in INCREMENTAL {
        assert!(
            !before[s].is_empty() && before[s].len() < truth[s].len(),
            "{s}: the first window holds part of the stream ({} of {})",
            before[s].len(),
            truth[s].len()
        );
    }
    reconfigure(&dir, &fake, json!({"start_date": "2019-01-01T00:00:00Z"}));
    let third = run_ok(&dir, Some(&second.last_state()), &[]);
    assert!(
        third.stderr.contains("does not cover"),
        "says why it reads again: {}",
        third.stderr
    );
    let after = keys_of(&[&first, &second, &third], &INCREMENTAL);
    for s in INCREMENTAL {
        assert_eq!(after[s], truth[s], "{s}");
    }
    // The widened window is remembered: a quiet run after it reads at most the boundary again.
    let fourth = run_ok(&dir, Some(&third.last_state()), &[]);
    only_boundary(&fourth, &third.last_state());
}

#[test]
fn a_later_start_date_keeps_the_bookmarks() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({"start_date": "2019-01-01T00:00:00Z"}));
    let catalog = catalog_selecting(&dir, &INCREMENTAL);
    let catalog = write(&dir, "catalog.json", &catalog);
    let first = run_ok(&dir, None, &["--catalog", &catalog]);
    let second = run_ok(&dir, Some(&first.last_state()), &["--catalog", &catalog]);
    reconfigure(&dir, &fake, json!({"start_date": "2024-06-01T00:00:00Z"}));
    let before = fake.stats();
    let third = run_ok(&dir, Some(&second.last_state()), &["--catalog", &catalog]);
    let after = fake.stats();
    assert!(third.streams().is_empty(), "nothing read again");
    assert_eq!(
        after.by_status.get(&304).copied().unwrap_or(0)
            - before.by_status.get(&304).copied().unwrap_or(0),
        after.total - before.total,
        "all 304"
    );
    assert_eq!(third.last_state(), second.last_state());
}

/// Sets `selected: false` on top-level property `field` of `stream` in a catalog.
fn deselect(catalog: &mut Value, stream: &str, field: &str) {
    let entry = catalog["streams"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["tap_stream_id"] == stream)
        .unwrap();
    let m = entry["metadata"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["breadcrumb"] == json!(["properties", field]))
        .unwrap();
    m["metadata"]["selected"] = json!(false);
}

#[test]
fn a_newly_selected_field_is_read_for_every_record() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let streams = [
        ("commits", "parents"),
        ("issues", "body"),
        ("pull_requests", "body"),
        ("issue_comments", "body"),
        ("releases", "body"),
    ];
    let names: Vec<&str> = streams.iter().map(|s| s.0).collect();
    let mut narrow = catalog_selecting(&dir, &names);
    for (stream, field) in streams {
        deselect(&mut narrow, stream, field);
    }
    let narrow = write(&dir, "narrow.json", &narrow);
    let wide = write(&dir, "wide.json", &catalog_selecting(&dir, &names));
    let first = run_ok(&dir, None, &["--catalog", &narrow]);
    let quiet = run_ok(&dir, Some(&first.last_state()), &["--catalog", &narrow]);
    for (stream, field) in streams {
        assert!(first.records(stream).iter().all(|r| !r.contains_key(field)));
    }
    let wider = run_ok(&dir, Some(&quiet.last_state()), &["--catalog", &wide]);
    for (stream, field) in streams {
        let records = wider.records(stream);
        assert_eq!(
            unique_keys(stream, &records),
            unique_keys(stream, &first.records(stream)),
            "{stream}: every record again"
        );
        assert!(records.iter().all(|r| r.contains_key(field)), "{stream}");
    }
    // Deselecting again keeps the bookmarks: nothing is missing, at most the boundary records
    // come again.
    let narrower = run_ok(&dir, Some(&wider.last_state()), &["--catalog", &narrow]);
    only_boundary(&narrower, &wider.last_state());
}

#[test]
fn a_bookmark_on_another_replication_key_starts_the_stream_over_with_a_warning() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let catalog = write(&dir, "catalog.json", &catalog_selecting(&dir, &["issues"]));
    let state = json!({"bookmarks": {"issues": {"partitions": [
        {"context": {"repository": "octo/app"}, "replication_key": "created_at",
         "replication_key_value": "2030-01-01T00:00:00Z"},
        {"context": {"repository": "octo/lib"}, "replication_key": "updated_at",
         "replication_key_value": "2030-01-01T00:00:00Z"}
    ]}}});
    let run = run_ok(&dir, Some(&state), &["--catalog", &catalog]);
    let app = fake.truth("octo/app").unwrap().issues.len();
    let got: Vec<_> = run
        .records("issues")
        .into_iter()
        .filter(|r| r["_sdc_repository"] == "octo/app")
        .collect();
    assert_eq!(got.len(), app, "octo/app starts over");
    assert!(
        run.records("issues")
            .iter()
            .all(|r| r["_sdc_repository"] == "octo/app"),
        "octo/lib's bookmark is on the right key and is kept"
    );
    assert!(
        run.stderr.contains("`issues`") && run.stderr.contains("`created_at`"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_lookback_reaches_back_on_early_stop_streams_too() {
    use time::format_description::well_known::Rfc3339;
    let fake = start(two_repos());
    let lookback = 86_400 * 400;
    let dir = setup(&fake, json!({"lookback_s": {"pull_requests": lookback}}));
    let catalog = write(
        &dir,
        "catalog.json",
        &catalog_selecting(&dir, &["pull_requests"]),
    );
    let truth = fake.truth("octo/app").unwrap();
    let pulls: Vec<_> = truth.issues.iter().filter(|i| i.pr_id.is_some()).collect();
    let bookmark = pulls.iter().map(|i| i.updated_at.clone()).max().unwrap();
    let floor = time::OffsetDateTime::parse(&bookmark, &Rfc3339).unwrap()
        - time::Duration::seconds(lookback);
    let expected: BTreeSet<String> = pulls
        .iter()
        .filter(|i| time::OffsetDateTime::parse(&i.updated_at, &Rfc3339).unwrap() >= floor)
        .map(|i| i.pr_id.unwrap().to_string())
        .collect();
    assert!(
        expected.len() >= 2,
        "the window holds more than the boundary"
    );
    let state = json!({"bookmarks": {"pull_requests": {"partitions": [
        {"context": {"repository": "octo/app"}, "replication_key": "updated_at",
         "replication_key_value": bookmark}
    ]}}});
    let run = run_ok(&dir, Some(&state), &["--catalog", &catalog]);
    let got: BTreeSet<String> = run
        .records("pull_requests")
        .iter()
        .filter(|r| r["_sdc_repository"] == "octo/app")
        .map(|r| r["id"].to_string())
        .collect();
    assert_eq!(got, expected);
}
