//! The state discipline: commits only at STATE boundaries, each committed STATE's bare value
//! echoed on stdout right after the commit, and nothing else on stdout.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// Rows of `table` another reader sees (0 when the table itself is not committed yet).
fn uncommitted_rows_seen(dir: &tempfile::TempDir, table: &str) -> i64 {
    let conn = open_db(&db_path(dir));
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap_or(0)
}

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
    // "a" and "c" wait (1 row pending); "b" commits and echoes "a" and "b", "d" echoes "c" and
    // "d"; end of input commits row 6 too.
    assert_eq!(
        stdout_json(&out),
        [json!("a"), json!("b"), json!("c"), json!("d")]
    );
    assert_eq!(count_rows(&dir, "s"), 6);
    assert!(
        stderr(&out).contains(", 3 commits, 4 states echoed"),
        "{}",
        stderr(&out)
    );
}

/// Every STATE is echoed, in order, once the rows before it are committed; several may share
/// one commit (the Meltano SDK's `multiple_state_messages` expectation).
#[test]
fn every_state_is_echoed_in_order() {
    let a = |id: i64, metric: i64| record("a", json!({"id": id, "metric": metric}));
    let b = |id: i64, metric: i64| record("b", json!({"id": id, "metric": metric}));
    let props = json!({"id": {"type": "integer"}, "metric": {"type": "integer"}});
    let input = lines(&[
        schema("a", props.clone(), &["id"]),
        schema("b", props, &["id"]),
        a(1, 100),
        state(json!({"a": 1, "b": 0})),
        a(2, 200),
        b(1, 110),
        state(json!({"a": 2, "b": 1})),
        a(3, 300),
        b(2, 220),
        state(json!({"a": 3, "b": 2})),
    ]);
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, input);
    assert_eq!(
        String::from_utf8(out.stdout.clone()).unwrap(),
        "{\"a\":1,\"b\":0}\n{\"a\":2,\"b\":1}\n{\"a\":3,\"b\":2}\n"
    );
    assert_eq!((count_rows(&dir, "a"), count_rows(&dir, "b")), (3, 2));
    assert!(
        stderr(&out).contains(", 1 commits, 3 states echoed"),
        "{}",
        stderr(&out)
    );
}

/// Bad input after a STATE that was received but not yet committed: what that STATE covers is
/// committed and the STATE echoed before the target fails; the rows after it are not.
#[test]
fn error_commits_what_the_last_state_received_covers() {
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
    assert_eq!(stdout_json(&out), [json!("pending")]);
    assert_eq!(rows(&db_path(&dir), "SELECT id FROM s"), json!([[1]]));

    // Without any STATE, nothing is committed: not even the table.
    let input = lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        record("s", json!({"id": 1})),
        "{oops".to_string(),
    ]);
    let (dir, mut cmd) = setup();
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 3: invalid JSON: key must be a string at line 1 column 2",
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
    // Nothing is committed before the quiet second: no echo, and other readers see no row.
    let early = target.line_within(Duration::from_millis(700));
    assert_eq!(early, None, "echoed after {:?}", sent.elapsed());
    let visible = uncommitted_rows_seen(&dir, "s");
    assert!(
        sent.elapsed() < Duration::from_millis(950),
        "checked too late: {:?}",
        sent.elapsed()
    );
    assert_eq!(visible, 0, "rows visible before the quiet second");
    let line = target.line_within(Duration::from_secs(3));
    let waited = sent.elapsed();
    assert_eq!(line.as_deref(), Some(r#"{"quiet":1}"#), "after {waited:?}");
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
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
    // "b" commits at once, echoing "a" first.
    assert_eq!(
        target.line_within(Duration::from_secs(5)).as_deref(),
        Some(r#""a""#)
    );
    assert_eq!(
        target.line_within(Duration::from_secs(1)).as_deref(),
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
