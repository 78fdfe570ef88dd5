//! Record validation: `fail` (the default) stops, `reject` keeps invalid records aside,
//! `validate_records: false` stores values as given.

use serde_json::json;

use crate::support::*;

#[test]
fn invalid_record_fails_by_default() {
    let tail = lines(&[
        record("users", json!({"id": "four", "name": "dee"})),
        record("users", json!({"id": 5})),
    ]);
    let (dir, out) = run_after_prefix(json!({}), tail.as_bytes());
    assert_error(
        &out,
        r#"line 6: stream `users`: record does not match its schema at /id: "four" is not of types "null", "integer""#,
    );
    assert_only_first_state_committed(&dir, &out);
}

#[test]
fn invalid_record_is_rejected_and_the_run_goes_on() {
    let tail = lines(&[
        record("users", json!({"id": "four", "name": "dee"})),
        record("users", json!({"id": 5, "name": ["not", "a", "string"]})),
        record("users", json!({"name": "no key"})),
        record("users", json!({"id": 6, "name": "fay"})),
        state(json!({"n": 6})),
    ]);
    let (dir, out) = run_after_prefix(json!({"on_invalid_record": "reject"}), tail.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out), [json!({"n": 2}), json!({"n": 6})]);
    let db = db_path(&dir);
    assert_eq!(
        rows(&db, "SELECT id, name FROM users ORDER BY id"),
        json!([[1, "ann"], [2, "bob"], [3, "cy"], [6, "fay"]])
    );
    assert_eq!(
        columns(&db, "_sdc_rejected_records")
            .into_iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        [
            "stream",
            "line",
            "error",
            "record",
            "received_at",
            "record_sha256"
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT stream, line, error, record FROM _sdc_rejected_records ORDER BY line"
        ),
        json!([
            [
                "users",
                6,
                r#"record does not match its schema at /id: "four" is not of types "null", "integer""#,
                r#"{"id":"four","name":"dee"}"#
            ],
            [
                "users",
                7,
                r#"record does not match its schema at /name: ["not","a","string"] is not of types "null", "string""#,
                r#"{"id":5,"name":["not","a","string"]}"#
            ],
            [
                "users",
                8,
                "record is missing key property `id`",
                r#"{"name":"no key"}"#
            ],
        ])
    );
    let received: Vec<String> = rows(&db, "SELECT received_at FROM _sdc_rejected_records")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(received.len(), 3);
    for r in received {
        assert!(is_timestamp(&r), "{r}");
    }
    let err = stderr(&out);
    assert!(
        err.contains("  users: 4 inserted, 0 updated, 3 rejected,"),
        "{err}"
    );
    assert_eq!(stderr_lines_with(&out, "rejected record").len(), 3, "{err}");
}

/// A rejected record after the last echoed STATE is rolled back with the rest on an error.
#[test]
fn rejected_records_follow_the_state_discipline() {
    let tail = lines(&[
        record("users", json!({"id": "four"})),
        "{broken".to_string(),
    ]);
    let (dir, out) = run_after_prefix(json!({"on_invalid_record": "reject"}), tail.as_bytes());
    assert_error(
        &out,
        "line 7: invalid JSON: key must be a string at line 1 column 2",
    );
    assert_only_first_state_committed(&dir, &out);
    let db = db_path(&dir);
    assert!(!tables(&db).contains(&"_sdc_rejected_records".to_string()));
}

#[test]
fn wrong_types_are_stored_as_given_without_validation() {
    let input = lines(&[
        schema(
            "things",
            json!({
                "id": {"type": "integer"},
                "count": {"type": "integer"},
                "ratio": {"type": "number"},
                "flag": {"type": "boolean"},
                "label": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
            }),
            &["id"],
        ),
        record(
            "things",
            json!({"id": 1, "count": "many", "ratio": "half", "flag": "yes", "label": 42, "tags": "solo"}),
        ),
        record(
            "things",
            json!({"id": 2, "count": 2.5, "ratio": true, "flag": 7, "label": {"a": 1}, "tags": [1, 2]}),
        ),
        state(json!("end")),
    ]);
    let (dir, mut cmd) = setup_with(json!({"validate_records": false}));
    let out = run_ok(&mut cmd, input);
    assert_eq!(stdout_json(&out), [json!("end")]);
    assert_eq!(
        rows(
            &db_path(&dir),
            "SELECT id, count, typeof(count), ratio, typeof(ratio), flag, label, typeof(label), tags
             FROM things ORDER BY id"
        ),
        json!([
            [1, "many", "text", "half", "text", "yes", "42", "text", "\"solo\""],
            [2, 2.5, "real", 1.0, "real", 7, r#"{"a":1}"#, "text", "[1,2]"],
        ])
    );
    // (SQLite's TEXT affinity turns the number 42 into the text "42".)
    // The same input fails with validation on.
    let (_dir, mut cmd) = setup();
    let out = run(&mut cmd, input_again());
    assert_error(
        &out,
        r#"line 2: stream `things`: record does not match its schema at /count: "many" is not of type "integer""#,
    );
}

fn input_again() -> String {
    lines(&[
        schema(
            "things",
            json!({"id": {"type": "integer"}, "count": {"type": "integer"}}),
            &["id"],
        ),
        record("things", json!({"id": 1, "count": "many"})),
    ])
}

/// `2024-05-01T12:34:56.123456Z`-shaped.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 27
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && s.ends_with('Z')
        && s[..4].parse::<u32>().is_ok_and(|y| y >= 2024)
}

/// Loading the same input again adds no duplicate rows to `_sdc_rejected_records`.
#[test]
fn rejected_records_are_not_duplicated_by_a_second_load() {
    let tail = lines(&[
        record("users", json!({"id": "four"})),
        record("users", json!({"name": "no key"})),
        state(json!({"n": 6})),
    ]);
    let (dir, out) = run_after_prefix(json!({"on_invalid_record": "reject"}), tail.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut input = users_prefix();
    input.extend_from_slice(tail.as_bytes());
    let out = run_ok(&mut cmd(&dir), input);
    assert!(stderr(&out).contains("2 rejected"), "{}", stderr(&out));
    assert_eq!(
        rows(
            &db_path(&dir),
            "SELECT stream, line, record FROM _sdc_rejected_records ORDER BY line"
        ),
        json!([
            ["users", 6, r#"{"id":"four"}"#],
            ["users", 7, r#"{"name":"no key"}"#]
        ])
    );
}

/// With `on_invalid_record = "fail"`, the rows the last STATE received covers are committed
/// and that STATE echoed before the target fails, even when no commit was due yet.
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
        record("s", json!({"id": 5})),
        state(json!({"n": 5})),
    ]);
    let (dir, mut cmd) = setup();
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        r#"line 7: stream `s`: record does not match its schema at /id: "four" is not of type "integer""#,
    );
    assert_eq!(stdout_json(&out), [json!({"n": 1}), json!({"n": 2})]);
    assert_eq!(
        rows(&db_path(&dir), "SELECT id FROM s ORDER BY id"),
        json!([[1], [2]])
    );
}
