//! Exact state surgery: a full refresh of some streams replaces only their bookmarks, and only
//! when it succeeds; `state clear --select` forgets only the named streams; a Meltano-shaped
//! state goes through set, run and `show --format meltano` with its untouched parts unchanged.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// The bookmark of `stream` as stored text: equal text means byte-identical.
fn bookmark_text(state: &Value, stream: &str) -> String {
    let bookmark = &state["bookmarks"][stream];
    assert!(!bookmark.is_null(), "no bookmark of {stream} in {state}");
    serde_json::to_string(bookmark).unwrap()
}

/// `state` without the bookmarks of `streams`.
fn without(state: &Value, streams: &[&str]) -> Value {
    let mut state = state.clone();
    for stream in streams {
        state["bookmarks"].as_object_mut().unwrap().remove(*stream);
    }
    state
}

/// Requests by status code answered since `before`.
fn statuses_since(
    fake: &fake_github::RunningFake,
    before: &fake_github::Stats,
) -> BTreeMap<u16, u64> {
    fake.stats()
        .by_status
        .into_iter()
        .map(|(status, n)| {
            (
                status,
                n - before.by_status.get(&status).copied().unwrap_or(0),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// `tapline state show` exactly as printed.
fn shown(p: &Pipeline, format: &str) -> String {
    let out = p.tapline(&["state", "show", "--format", format]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Writes `value` into the pipeline folder and runs `tapline state set` on it.
fn set_state(p: &Pipeline, value: &Value) {
    let file = p.path().join("set.json");
    std::fs::write(&file, serde_json::to_string_pretty(value).unwrap()).unwrap();
    let out = p.tapline(&["state", "set", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A second run of commits: its bookmark now holds the ETag of the request the next run makes
/// (the first run after a load asks with the new bookmark and learns it), so from here on a run
/// with nothing new is answered 304.
fn settle_commits(p: &Pipeline) {
    let out = p.tapline(&["run", "--select", "commits"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn report(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn full_refresh_of_one_stream_keeps_every_other_bookmark_byte_for_byte() {
    let fake = fake(&[("octo/app", 150, 40), ("octo/lib", 60, 10)], 0, None);
    let repos = ["octo/app", "octo/lib"];
    let p = Pipeline::github(&fake, &repos, ", max_retries = 0", "");
    let out = p.tapline(&["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    settle_commits(&p);
    let before = p.state().unwrap();
    let commits = bookmark_text(&before, "commits");

    fake.mutate(
        "octo/app",
        fake_github::Mutation {
            update_issues: 3,
            ..Default::default()
        },
    )
    .unwrap();
    let stats = fake.stats();
    let out = p.tapline(&[
        "run",
        "--full-refresh",
        "--select",
        "issues",
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let issues: usize = repos.iter().map(|r| truth_keys(&fake, r).1.len()).sum();
    assert_eq!(
        report(&out)["records"]["issues"],
        issues,
        "issues are read again from the start"
    );
    assert!(
        !statuses_since(&fake, &stats).contains_key(&304),
        "the tap had no issues ETag to send"
    );
    let after = p.state().unwrap();
    assert_eq!(bookmark_text(&after, "commits"), commits);
    assert_ne!(after["bookmarks"]["issues"], before["bookmarks"]["issues"]);
    assert_eq!(
        without(&after, &["issues"]),
        without(&before, &["issues"]),
        "every other stream and top-level key is kept"
    );

    // The commits bookmark still holds its ETags: a plain run makes conditional requests only.
    let stats = fake.stats();
    let out = p.tapline(&["run", "--select", "commits", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        statuses_since(&fake, &stats),
        BTreeMap::from([(304, 2)]),
        "one 304 per repository"
    );
    assert_eq!(report(&out)["records"]["commits"].as_u64().unwrap_or(0), 0);
    assert_eq!(bookmark_text(&p.state().unwrap(), "commits"), commits);

    // A full refresh that fails (GitHub is gone) leaves the state as it was.
    let kept = shown(&p, "singer");
    drop(fake);
    let out = p.tapline(&["run", "--full-refresh", "--select", "issues"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(shown(&p, "singer"), kept);
}

#[test]
fn state_clear_select_keeps_the_other_streams() {
    let fake = fake(&[("octo/app", 120, 30)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    let out = p.tapline(&["run", "--select", "commits,issues"]);
    assert!(out.status.success(), "{}", stderr(&out));
    settle_commits(&p);
    let before = p.state().unwrap();
    let commits = bookmark_text(&before, "commits");

    let out = p.tapline(&["state", "clear", "--select", "issues,releases"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bookmarks of issues cleared"), "{err}");
    assert!(err.contains("had no bookmark of releases"), "{err}");
    let after = p.state().unwrap();
    assert!(after["bookmarks"].get("issues").is_none(), "{after}");
    assert_eq!(after, without(&before, &["issues"]));
    assert_eq!(bookmark_text(&after, "commits"), commits);

    let stats = fake.stats();
    let out = p.tapline(&["run", "--select", "commits,issues", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        report(&out)["records"]["issues"],
        30,
        "issues start over from start_date"
    );
    let commit_statuses = &fake.stats().by_path["/repos/octo/app/commits"];
    assert_eq!(
        commit_statuses.get(&304).copied().unwrap_or(0)
            - stats.by_path["/repos/octo/app/commits"]
                .get(&304)
                .copied()
                .unwrap_or(0),
        1,
        "commits kept their bookmark and ETag"
    );

    let out = p.tapline(&["state", "clear"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.state(), None, "without --select everything goes");
}

#[test]
fn state_clear_select_nulls_a_currently_syncing_naming_a_cleared_stream() {
    // The state commands need no tap or target.
    let p = Pipeline::with_text(
        "name = \"x\"\n[tap]\nexecutable = \"tap-not-installed\"\n[target]\nexecutable = \"target-not-installed\"\n",
    );
    let state = json!({
        "bookmarks": {"a": {"v": 1}, "b": {"v": 2}},
        "currently_syncing": "a",
        "x_tool": {"k": [1.5, null]}
    });
    set_state(&p, &state);
    let out = p.tapline(&["state", "clear", "--select", "b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        p.state().unwrap(),
        json!({"bookmarks": {"a": {"v": 1}}, "currently_syncing": "a", "x_tool": {"k": [1.5, null]}})
    );
    let out = p.tapline(&["state", "clear", "--select", "a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        p.state().unwrap(),
        json!({"bookmarks": {}, "currently_syncing": null, "x_tool": {"k": [1.5, null]}})
    );
    let out = p.tapline(&["state", "clear", "--select", ""]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--select: a stream name is empty"));
}

#[test]
fn full_refresh_without_a_selection_replaces_the_whole_state() {
    let fake = fake(&[("octo/app", 80, 20)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    let out = p.tapline(&["run", "--select", "commits"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut state = p.state().unwrap();
    state["bookmarks"]["gone"] = json!({"replication_key_value": "2020-01-01T00:00:00Z"});
    state["x_tool"] = json!("stale");
    set_state(&p, &state);

    let out = p.tapline(&["run", "--full-refresh", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        report(&out)["records"]["commits"],
        80,
        "the tap got no state"
    );
    let after = p.state().unwrap();
    assert!(after["bookmarks"].get("gone").is_none(), "{after}");
    assert!(after.get("x_tool").is_none(), "{after}");
    assert!(after["bookmarks"].get("issues").is_some(), "{after}");
}

/// A pipeline whose tap (`./tap.sh`) has streams `a` and `b`: it copies the state it is given to
/// `seen_state.json` (`none` without one), prints `out.singer`, hangs while `hang` exists, and
/// exits with the code in `exit_code` (default 0).
fn two_stream_pipeline() -> Pipeline {
    let p = script_pipeline("");
    let streams: Vec<Value> = ["a", "b"]
        .iter()
        .map(|s| {
            json!({
                "tap_stream_id": s,
                "stream": s,
                "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "metadata": [{"breadcrumb": [], "metadata": {}}]
            })
        })
        .collect();
    let catalog = json!({ "streams": streams });
    std::fs::write(p.path().join("catalog.json"), catalog.to_string()).unwrap();
    script(
        &p,
        "tap.sh",
        r#"case " $* " in *" --discover "*) cat catalog.json; exit 0;; esac
state=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--state" ]; then state="$2"; fi
  shift
done
if [ -n "$state" ]; then cp "$state" seen_state.json; else echo none > seen_state.json; fi
cat out.singer
while [ -e hang ]; do sleep 0.05; done
exit "$(cat exit_code 2>/dev/null || echo 0)""#,
    );
    tap_prints(
        &p,
        Some(json!({"bookmarks": {"a": {"v": 9}, "b": {"v": 9}}})),
    );
    p
}

/// Makes the tap of [`two_stream_pipeline`] print a record of `a` and then `state`, if any.
fn tap_prints(p: &Pipeline, state: Option<Value>) {
    let mut lines = vec![
        json!({"type": "SCHEMA", "stream": "a", "schema": {"properties": {"id": {"type": "integer"}}}, "key_properties": ["id"]}),
        json!({"type": "RECORD", "stream": "a", "record": {"id": 1}}),
    ];
    lines.extend(state.map(|value| json!({"type": "STATE", "value": value})));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(p.path().join("out.singer"), text).unwrap();
}

fn seen_state(p: &Pipeline) -> Option<Value> {
    let text = std::fs::read_to_string(p.path().join("seen_state.json")).unwrap();
    (text.trim() != "none").then(|| serde_json::from_str(&text).unwrap())
}

fn stored() -> Value {
    json!({
        "bookmarks": {"a": {"v": 1}, "b": {"v": 1, "etag": "W/\"b\""}},
        "currently_syncing": "a",
        "x_tool": {"k": 1.5}
    })
}

#[test]
fn the_tap_of_a_partial_refresh_sees_the_other_bookmarks_and_the_files_select_counts() {
    let p = two_stream_pipeline();
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        toml.replace(
            "executable = \"./tap.sh\"",
            "executable = \"./tap.sh\"\nselect = [\"a\"]",
        ),
    )
    .unwrap();
    set_state(&p, &stored());

    // The file selects `a`: that is what a full refresh refreshes.
    let out = p.tapline(&["run", "--full-refresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        seen_state(&p),
        Some(
            json!({"bookmarks": {"b": {"v": 1, "etag": "W/\"b\""}}, "currently_syncing": null, "x_tool": {"k": 1.5}})
        ),
        "the tap gets the stored state without a's bookmark"
    );
    let mut expected = stored();
    expected["bookmarks"]["a"] = json!({"v": 9});
    assert_eq!(p.state(), Some(expected.clone()));

    // --select overrides the file.
    tap_prints(
        &p,
        Some(json!({"bookmarks": {"a": {"v": 5}, "b": {"v": 5}}})),
    );
    let out = p.tapline(&["run", "--full-refresh", "--select", "b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    expected["bookmarks"]["b"] = json!({"v": 5});
    assert_eq!(p.state(), Some(expected.clone()));

    // A refresh whose tap printed no state removes the refreshed bookmark.
    tap_prints(&p, None);
    let out = p.tapline(&["run", "--full-refresh", "--select", "a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    expected["bookmarks"].as_object_mut().unwrap().remove("a");
    assert_eq!(p.state(), Some(expected));
}

#[test]
fn a_failed_full_refresh_leaves_the_state_untouched_and_nothing_for_the_next() {
    let p = two_stream_pipeline();
    set_state(&p, &stored());
    let kept = shown(&p, "singer");
    std::fs::write(p.path().join("exit_code"), "1").unwrap();
    let out = p.tapline(&["run", "--full-refresh", "--select", "a"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(shown(&p, "singer"), kept, "its bookmark was kept aside");

    // The next full refresh starts from nothing: the failed one's bookmark is not promoted.
    std::fs::remove_file(p.path().join("exit_code")).unwrap();
    tap_prints(&p, None);
    let out = p.tapline(&["run", "--full-refresh", "--select", "a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.state(), Some(without(&stored(), &["a"])));
}

#[test]
fn an_interrupted_full_refresh_leaves_the_state_untouched() {
    let p = two_stream_pipeline();
    set_state(&p, &stored());
    let kept = shown(&p, "singer");
    std::fs::write(p.path().join("hang"), "").unwrap();
    let run = p
        .command(&["run", "--full-refresh", "--select", "a", "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The target made the refresh's bookmark durable: it is stored aside.
    let db = rusqlite::Connection::open(p.path().join(".tapline/state.db")).unwrap();
    let refresh_stored = || {
        db.query_row(
            "SELECT count(*) FROM state WHERE slot = 'refresh'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .is_ok_and(|n| n == 1)
    };
    assert!(
        wait_for(Duration::from_secs(30), refresh_stored),
        "the refresh's bookmark was not stored"
    );
    signal(run.id(), nix::sys::signal::Signal::SIGTERM);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(report(&out)["status"], "interrupted");
    assert_eq!(shown(&p, "singer"), kept);
}

#[test]
fn meltano_shaped_state_round_trips_through_set_run_and_show() {
    let fake = fake(&[("octo/app", 90, 20)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    let singer_state = json!({
        "bookmarks": {
            "issues": {"partitions": [
                {"context": {"repository": "octo/app"}, "replication_key": "updated_at",
                 "replication_key_value": "2020-01-01T00:00:00Z", "etag": "W/\"abc\"",
                 "progress_markers": {"Note": "in progress", "replication_key_value": "2020-02-01T00:00:00Z"}},
                {"context": {"repository": "gone/repo"}, "replication_key": "updated_at",
                 "replication_key_value": "2021-05-05T00:00:00Z", "x_extra": [1, 2.5, null, true]}
            ]},
            "releases": {"partitions": [{"context": {"repository": "octo/app"}}], "x_custom": {"k": "v"}},
            "some_python_stream": {"replication_key_value": 42, "version": 1_700_000_000_000_u64}
        },
        "currently_syncing": null,
        "x_orchestrator": {"run": "abc", "nested": {"list": [1, {"z": "é"}]}}
    });
    set_state(&p, &json!({ "singer_state": singer_state }));
    let meltano = |p: &Pipeline| -> Value {
        let shown: Value = serde_json::from_str(&shown(p, "meltano")).unwrap();
        assert_eq!(
            shown.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["singer_state"],
            "{shown}"
        );
        shown
    };
    assert_eq!(meltano(&p), json!({ "singer_state": singer_state }));

    // A run of another stream: the tap carries the rest forward.
    let out = p.tapline(&["run", "--select", "commits"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = meltano(&p);
    assert!(shown["singer_state"]["bookmarks"].get("commits").is_some());
    assert_eq!(without(&shown["singer_state"], &["commits"]), singer_state);

    // A full refresh of another stream: tapline keeps the rest itself.
    let out = p.tapline(&["run", "--full-refresh", "--select", "commits"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = meltano(&p);
    assert_eq!(without(&shown["singer_state"], &["commits"]), singer_state);

    // And `show --format meltano` output is what `state set` (and `meltano state set`) takes.
    set_state(&p, &shown);
    assert_eq!(meltano(&p), shown);
}
