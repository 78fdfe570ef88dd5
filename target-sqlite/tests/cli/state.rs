//! The state discipline: commits only at STATE boundaries, each committed STATE's bare value
//! echoed on stdout right after the commit, and nothing else on stdout.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

fn count_rows(dir: &tempfile::TempDir, table: &str) -> i64 {
    rows(&db_path(dir), &format!("SELECT count(*) FROM {table}"))[0][0]
        .as_i64()
        .unwrap()
}

/// stdout holds exactly the bare STATE values, compact, one per line, in order.
#[test]
fn stdout_carries_only_bare_state_values() {
    let s = || schema("s", json!({"id": {"type": "integer"}}), &["id"]);
    let r = |i: i64| record("s", json!({"id": i}));
    let input = lines(&[
        s(),
        r(1),
        state(json!({"bookmarks": {"s": {"id": 1}}})),
        r(2),
        state(json!("two")),
        r(3),
        state(json!(3)),
        r(4),
        state(json!(null)),
        r(5),
        state(json!([1, {"a": "b"}])),
    ]);
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 1}));
    let out = run_ok(&mut cmd, input);
    assert_eq!(
        String::from_utf8(out.stdout.clone()).unwrap(),
        "{\"bookmarks\":{\"s\":{\"id\":1}}}\n\"two\"\n3\nnull\n[1,{\"a\":\"b\"}]\n"
    );
    assert_eq!(count_rows(&dir, "s"), 5);
}

/// With no records at all, the last STATE is still committed and printed at end of input.
#[test]
fn last_state_is_printed_at_end_without_records() {
    let input = lines(&[
        state(json!({"n": 1})),
        state(json!({"n": 2})),
        state(json!({"n": 3})),
    ]);
    let (_dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, input);
    // A STATE may be committed early when a second passed, but the last one always comes last.
    let printed = stdout_json(&out);
    assert_eq!(printed.last(), Some(&json!({"n": 3})), "{printed:?}");
    assert!(
        printed
            .windows(2)
            .all(|w| w[0]["n"].as_i64() < w[1]["n"].as_i64()),
        "{printed:?}"
    );

    // The same with a SCHEMA but no records: the table exists, empty.
    let input = lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        state(json!("only")),
    ]);
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, input);
    assert_eq!(stdout_json(&out), [json!("only")]);
    assert_eq!(count_rows(&dir, "s"), 0);
    assert!(stderr(&out).contains("  s: 0 inserted, 0 updated, 0 rejected"));
}

/// A STATE commits once `batch_size_rows` rows are pending; earlier ones wait.
#[test]
fn batch_size_rows_decides_which_states_commit() {
    let r = |i: i64| record("s", json!({"id": i}));
    let input = lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &[]),
        r(1),
        state(json!("a")),
        r(2),
        r(3),
        state(json!("b")),
        r(4),
        state(json!("c")),
        r(5),
        state(json!("d")),
        r(6),
    ]);
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 2}));
    let out = run_ok(&mut cmd, input);
    // "a" and "c" wait (1 row pending); "b" and "d" commit; end of input commits row 6 too.
    assert_eq!(stdout_json(&out), [json!("b"), json!("d")]);
    assert_eq!(count_rows(&dir, "s"), 6);
    assert!(
        stderr(&out).contains(", 3 commits, 2 states echoed"),
        "{}",
        stderr(&out)
    );
}

/// An error rolls back everything after the last echoed STATE, including a STATE that was
/// received but not yet committed.
#[test]
fn error_rolls_back_a_pending_state() {
    let input = lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        record("s", json!({"id": 1})),
        state(json!("pending")),
        record("s", json!({"id": 2})),
        "{oops".to_string(),
    ]);
    let (dir, mut cmd) = setup();
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 5: invalid JSON: key must be a string at line 1 column 2",
    );
    assert!(out.stdout.is_empty());
    assert!(tables(&db_path(&dir)).is_empty());
}

/// A tap that pauses after a STATE: the target commits and echoes it after about a second,
/// while it keeps running, and the rows are visible to other readers from then on.
#[test]
fn quiet_state_is_committed_after_a_second() {
    let (dir, _) = setup();
    let mut target = Running::start(&dir);
    target.write(&lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        record("s", json!({"id": 1})),
        record("s", json!({"id": 2})),
        state(json!({"quiet": 1})),
    ]));
    let sent = Instant::now();
    let line = target.line_within(Duration::from_secs(3));
    let waited = sent.elapsed();
    assert_eq!(line.as_deref(), Some(r#"{"quiet":1}"#), "after {waited:?}");
    assert!(waited < Duration::from_millis(2500), "{waited:?}");
    assert!(target.child.try_wait().unwrap().is_none(), "still running");
    assert_eq!(count_rows(&dir, "s"), 2);

    target.write(&lines(&[
        record("s", json!({"id": 3})),
        state(json!({"quiet": 2})),
    ]));
    let line = target.line_within(Duration::from_secs(3));
    assert_eq!(line.as_deref(), Some(r#"{"quiet":2}"#));
    assert_eq!(count_rows(&dir, "s"), 3);
    let (code, rest) = target.finish();
    assert_eq!(code, Some(0));
    assert!(rest.is_empty(), "{rest:?}");
}

/// A STATE followed by more records is not committed by the timer; the next STATE commits
/// at once because the last commit is more than a second old.
#[test]
fn state_commits_when_the_last_commit_is_a_second_old() {
    let (dir, _) = setup();
    let mut target = Running::start(&dir);
    let mut first = vec![
        schema("s", json!({"id": {"type": "integer"}}), &[]),
        record("s", json!({"id": 0})),
        state(json!("a")),
    ];
    // Enough records that the reader thread hands them over at once (it passes on batches of
    // a few hundred messages, or whatever it has at a STATE).
    first.extend((1..2000).map(|i| record("s", json!({"id": i}))));
    target.write(&lines(&first));
    // "a" arrived within a second of the start and records followed: nothing to echo yet.
    assert_eq!(target.line_within(Duration::from_millis(1500)), None);
    target.write(&lines(&[
        state(json!("b")),
        record("s", json!({"id": 300})),
    ]));
    assert_eq!(
        target.line_within(Duration::from_secs(5)).as_deref(),
        Some(r#""b""#)
    );
    assert!(target.child.try_wait().unwrap().is_none(), "still running");
    assert_eq!(count_rows(&dir, "s"), 2000);
    let (code, rest) = target.finish();
    assert_eq!(code, Some(0));
    assert!(rest.is_empty(), "{rest:?}");
    // End of input commits the last row as well.
    assert_eq!(count_rows(&dir, "s"), 2001);
}
