//! The state discipline on PostgreSQL: every STATE echoed in order once its rows are committed,
//! bad input commits what the last STATE received covers, a quiet STATE commits after a second.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

#[test]
fn every_state_is_echoed_in_order() {
    let props = json!({"id": {"type": "integer"}, "metric": {"type": "integer"}});
    let input = lines(&[
        schema("a", props.clone(), &["id"]),
        schema("b", props, &[]),
        record("a", json!({"id": 1, "metric": 100})),
        state(json!({"a": 1, "b": 0})),
        record("a", json!({"id": 2, "metric": 200})),
        record("b", json!({"id": 1, "metric": 110})),
        state(json!({"a": 2, "b": 1})),
        record("a", json!({"id": 3, "metric": 300})),
        record("b", json!({"id": 2, "metric": 220})),
        state(json!({"a": 3, "b": 2})),
    ]);
    let s = setup();
    let out = run_ok(&mut s.cmd(), input);
    assert_eq!(
        String::from_utf8(out.stdout.clone()).unwrap(),
        "{\"a\":1,\"b\":0}\n{\"a\":2,\"b\":1}\n{\"a\":3,\"b\":2}\n"
    );
    assert_eq!(s.column("SELECT count(*) FROM tap.a"), [json!(3)]);
    assert_eq!(s.column("SELECT count(*) FROM tap.b"), [json!(2)]);
}

#[test]
fn fail_commits_what_the_last_state_received_covers() {
    let input = lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        record("s", json!({"id": 1})),
        state(json!({"n": 1})),
        record("s", json!({"id": 2})),
        state(json!({"n": 2})),
        record("s", json!({"id": 3})),
        record("s", json!({"id": "four"})),
        state(json!({"n": 5})),
    ]);
    let s = setup();
    let out = run(&mut s.cmd(), input);
    assert_error_starting(
        &out,
        r#"line 7: stream `s`: record does not match its schema at /id: "four" is not of type "integer""#,
    );
    assert_eq!(stdout_json(&out), [json!({"n": 1}), json!({"n": 2})]);
    assert_eq!(
        s.column("SELECT id FROM tap.s ORDER BY id"),
        [json!(1), json!(2)]
    );
}

#[test]
fn rejected_records_are_not_duplicated_by_a_second_load() {
    let input = lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        record("s", json!({"id": "one"})),
        record("s", json!({"id": 2})),
        state(json!(1)),
    ]);
    let s = setup_with(json!({"on_invalid_record": "reject"}));
    run_ok(&mut s.cmd(), input.clone());
    run_ok(&mut s.cmd(), input);
    assert_eq!(
        s.rows("SELECT stream, line, record FROM tap._sdc_rejected_records"),
        json!([{"stream": "s", "line": 2, "record": "{\"id\":\"one\"}"}])
    );
}

/// A tap that pauses after a STATE: nothing is visible before the quiet second, then the
/// STATE is committed and echoed while the target keeps running.
#[test]
fn quiet_state_is_committed_after_a_second() {
    let s = setup();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(s.config_path())
        .env_remove("TAPLINE_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    stdin
        .write_all(
            lines(&[
                schema("s", json!({"id": {"type": "integer"}}), &["id"]),
                record("s", json!({"id": 1})),
                state(json!({"quiet": 1})),
            ])
            .as_bytes(),
        )
        .unwrap();
    stdin.flush().unwrap();
    let sent = Instant::now();
    assert!(
        rx.recv_timeout(Duration::from_millis(700)).is_err(),
        "echoed early"
    );
    let visible: i64 =
        s.db.client()
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'tap'",
                &[],
            )
            .unwrap()
            .get(0);
    assert!(
        sent.elapsed() < Duration::from_millis(950),
        "checked too late"
    );
    assert_eq!(visible, 0, "table visible before the quiet second");
    let line = rx.recv_timeout(Duration::from_secs(3)).unwrap();
    assert_eq!(line, r#"{"quiet":1}"#);
    assert!(sent.elapsed() >= Duration::from_millis(950));
    assert_eq!(s.column("SELECT count(*) FROM tap.s"), [json!(1)]);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
