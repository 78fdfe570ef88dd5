//! The bad-input corpus every target runs (included by each target's tests with `#[path]`):
//! each case is what follows a fixed prefix, and what must come of it: the one-line error (or
//! success), the STATEs echoed and the rows left in table `users`.
//!
//! The prefix (`PREFIX`, lines 1–5): SCHEMA `users` (nullable integer key `id`, `name`), two
//! records, STATE `{"n": 2}`, a third record. Targets run it with `batch_size_rows: 1`, so the
//! STATE commits at once.

#![allow(dead_code)]

use serde_json::{Value, json};

/// One case of the corpus.
pub struct Case {
    /// What it checks.
    pub name: &'static str,
    /// Input after the prefix (line 6 on).
    pub tail: Vec<u8>,
    /// Extra config settings.
    pub settings: Value,
    /// How the error line reads after `target-…: error: ` (its start: where the targets word
    /// a database-specific reason differently, only the common part), or `None` when the load
    /// succeeds.
    pub error: Option<String>,
    /// The STATE values echoed, in order.
    pub stdout: Vec<Value>,
    /// The `id`s left in `users`, sorted.
    pub ids: Vec<i64>,
}

pub fn schema(stream: &str, properties: Value, keys: &[&str]) -> String {
    json!({"type": "SCHEMA", "stream": stream,
        "schema": {"type": "object", "properties": properties}, "key_properties": keys})
    .to_string()
}

pub fn record(stream: &str, record: Value) -> String {
    json!({"type": "RECORD", "stream": stream, "record": record}).to_string()
}

pub fn state(value: Value) -> String {
    json!({"type": "STATE", "value": value}).to_string()
}

/// Lines 1–5 of every case.
pub fn prefix() -> Vec<u8> {
    let lines = [
        schema(
            "users",
            json!({"id": {"type": ["null", "integer"]}, "name": {"type": ["null", "string"]}}),
            &["id"],
        ),
        record("users", json!({"id": 1, "name": "ann"})),
        record("users", json!({"id": 2, "name": "bob"})),
        state(json!({"n": 2})),
        record("users", json!({"id": 3, "name": "cy"})),
    ];
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

/// A bad line 6 followed by a valid line 7: the load stops at line 6 and keeps rows 1 and 2.
fn at_line_6(name: &'static str, line: &[u8], message: &str) -> Case {
    let mut tail = line.to_vec();
    tail.push(b'\n');
    tail.extend_from_slice(record("users", json!({"id": 4, "name": "dee"})).as_bytes());
    tail.push(b'\n');
    Case {
        name,
        tail,
        settings: json!({}),
        error: Some(format!("line 6: {message}")),
        stdout: vec![json!({"n": 2})],
        ids: vec![1, 2],
    }
}

fn ok(name: &'static str, tail: &[String], stdout: Vec<Value>, ids: Vec<i64>) -> Case {
    Case {
        name,
        tail: tail
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .into_bytes(),
        settings: json!({}),
        error: None,
        stdout,
        ids,
    }
}

/// Every case.
pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        at_line_6(
            "trailing comma",
            br#"{"type": "RECORD", "stream": "users", "record": {"id": 5,}}"#,
            "invalid JSON: trailing comma at line 1 column 58",
        ),
        at_line_6("not JSON", b"not json at all", "invalid JSON: expected ident at line 1 column 2"),
        at_line_6(
            "missing type",
            br#"{"stream": "users", "record": {"id": 5}}"#,
            "missing field `type`",
        ),
        at_line_6(
            "type not a string",
            br#"{"type": 7, "stream": "users", "record": {"id": 5}}"#,
            "field `type` must be a string",
        ),
        at_line_6(
            "record before its schema",
            record("ghosts", json!({"id": 1})).as_bytes(),
            "RECORD for stream `ghosts` before its SCHEMA",
        ),
        at_line_6(
            "schema without properties",
            br#"{"type": "SCHEMA", "stream": "items", "schema": {"type": "object"}, "key_properties": []}"#,
            "stream `items`: schema has no `properties` object",
        ),
        at_line_6(
            "schema without schema",
            br#"{"type": "SCHEMA", "stream": "items", "key_properties": []}"#,
            "missing field `schema`",
        ),
        at_line_6(
            "key property the schema lacks",
            schema("items", json!({"name": {"type": "string"}}), &["id"]).as_bytes(),
            "stream `items`: key property `id` is not a declared top-level scalar property",
        ),
        at_line_6(
            "record missing a key property",
            record("users", json!({"name": "eve"})).as_bytes(),
            "stream `users`: record is missing key property `id`",
        ),
        at_line_6(
            "record with a null key",
            record("users", json!({"id": null, "name": "eve"})).as_bytes(),
            "stream `users`: key property `id` is null",
        ),
        at_line_6(
            "state without value",
            br#"{"type": "STATE"}"#,
            "missing field `value`",
        ),
        at_line_6(
            "invalid record",
            record("users", json!({"id": "four", "name": "dee"})).as_bytes(),
            r#"stream `users`: record does not match its schema at /id: "four" is not of types "null", "integer""#,
        ),
        at_line_6(
            "number out of every column's range",
            br#"{"type": "RECORD", "stream": "users", "record": {"id": 18446744073709551616}}"#,
            "stream `users`: column `id`: ",
        ),
        at_line_6(
            "schema that is not a valid JSON Schema",
            schema("items", json!({"id": {"type": "integer", "minimum": "zero"}}), &[]).as_bytes(),
            "stream `items`: invalid JSON Schema: \"zero\" is not of type \"number\"",
        ),
        at_line_6(
            "two streams that map to one table",
            schema("USERS", json!({"id": {"type": "integer"}}), &["id"]).as_bytes(),
            "stream `USERS` maps to table `users`, which stream `users` already uses",
        ),
        at_line_6(
            "stream named like the rejected records table",
            schema("_sdc_rejected_records", json!({"id": {"type": "integer"}}), &[]).as_bytes(),
            "stream `_sdc_rejected_records` maps to table `_sdc_rejected_records`, which _sdc_rejected_records already uses",
        ),
        at_line_6(
            "key_properties changed within a run",
            schema("users", json!({"id": {"type": ["null", "integer"]}, "name": {"type": ["null", "string"]}}), &["name"]).as_bytes(),
            r#"stream `users`: key_properties changed from ["id"] to ["name"]"#,
        ),
    ];
    for line in [&b"[1, 2, 3]"[..], b"\"RECORD\"", b"42", b"null"] {
        cases.push(at_line_6(
            "JSON that is not an object",
            line,
            "message is not a JSON object",
        ));
    }
    for (line, message) in [
        (
            r#"{"type": "RECORD", "record": {"id": 5}}"#,
            "missing field `stream`",
        ),
        (
            r#"{"type": "RECORD", "stream": "users", "record": [5]}"#,
            "field `record` must be an object",
        ),
        (
            r#"{"type": "RECORD", "stream": "users"}"#,
            "missing field `record`",
        ),
        (
            r#"{"type": "SCHEMA", "stream": "x", "schema": {"properties": {}}, "key_properties": "id"}"#,
            "field `key_properties` must be an array of strings",
        ),
        (
            r#"{"type": "ACTIVATE_VERSION", "stream": "users"}"#,
            "missing field `version`",
        ),
    ] {
        cases.push(at_line_6("ill-formed message", line.as_bytes(), message));
    }
    let good = br#"{"type": "RECORD", "stream": "users", "record": {"id": 5, "name": ""#;
    let mut non_utf8 = good.to_vec();
    non_utf8.extend_from_slice(b"\xff\xfe\"}}");
    cases.push(at_line_6(
        "non-UTF-8 bytes",
        &non_utf8,
        &format!("invalid UTF-8 at byte {}", good.len()),
    ));
    let mut null_key = at_line_6(
        "null key without validation",
        record("users", json!({"id": null, "name": "eve"})).as_bytes(),
        "stream `users`: key property `id` is null",
    );
    null_key.settings = json!({"validate_records": false});
    cases.push(null_key);
    cases.push(ok(
        "unknown type is a warning only",
        &[
            r#"{"type": "BATCH", "stream": "users"}"#.to_string(),
            record("users", json!({"id": 4, "name": "dee"})),
            state(json!({"n": 4})),
        ],
        vec![json!({"n": 2}), json!({"n": 4})],
        vec![1, 2, 3, 4],
    ));
    cases.push(ok(
        "lower-case types",
        &[
            r#"{"type": "record", "stream": "users", "record": {"id": 4}}"#.to_string(),
            r#"{"type": "State", "value": {"n": 4}}"#.to_string(),
        ],
        vec![json!({"n": 2}), json!({"n": 4})],
        vec![1, 2, 3, 4],
    ));
    let mut truncated = ok(
        "truncated last line that is valid JSON",
        &[record("users", json!({"id": 4, "name": "dee"}))],
        vec![json!({"n": 2}), json!({"n": 4})],
        vec![1, 2, 3, 4],
    );
    truncated
        .tail
        .extend_from_slice(state(json!({"n": 4})).as_bytes()); // no newline
    cases.push(truncated);
    let mut cut = ok(
        "truncated last line that is invalid JSON",
        &[record("users", json!({"id": 4, "name": "dee"}))],
        vec![json!({"n": 2})],
        vec![1, 2],
    );
    cut.tail
        .extend_from_slice(br#"{"type": "STATE", "value": {"n": 5"#);
    cut.error =
        Some("line 7: invalid JSON: EOF while parsing an object at line 1 column 34".into());
    cases.push(cut);
    let mut rejected = ok(
        "invalid records rejected",
        &[
            record("users", json!({"id": "four"})),
            record("users", json!({"name": "no key"})),
            record("users", json!({"id": 6, "name": "fay"})),
            state(json!({"n": 6})),
        ],
        vec![json!({"n": 2}), json!({"n": 6})],
        vec![1, 2, 3, 6],
    );
    rejected.settings = json!({"on_invalid_record": "reject"});
    cases.push(rejected);
    let mut rejected_then_broken = ok(
        "a rejected record after the last STATE is rolled back with the rest",
        &[
            record("users", json!({"id": "four"})),
            "{broken".to_string(),
        ],
        vec![json!({"n": 2})],
        vec![1, 2],
    );
    rejected_then_broken.settings = json!({"on_invalid_record": "reject"});
    rejected_then_broken.error =
        Some("line 7: invalid JSON: key must be a string at line 1 column 2".into());
    cases.push(rejected_then_broken);
    cases
}
