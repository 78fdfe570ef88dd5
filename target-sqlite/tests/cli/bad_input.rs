//! Bad input: each case is a one-line error naming the line, exit code 1, and the database
//! holds exactly what the last echoed STATE covers.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::*;

/// Runs the prefix, then `line6` and a valid line 7, and checks the error and the database.
fn fails_at_line_6(line6: &[u8], message: &str) {
    let mut tail = line6.to_vec();
    tail.push(b'\n');
    tail.extend_from_slice(record("users", json!({"id": 4, "name": "dee"})).as_bytes());
    tail.push(b'\n');
    let (dir, out) = run_after_prefix(json!({}), &tail);
    assert_error(&out, message);
    assert_only_first_state_committed(&dir, &out);
}

#[test]
fn invalid_json() {
    fails_at_line_6(
        br#"{"type": "RECORD", "stream": "users", "record": {"id": 5,}}"#,
        "line 6: invalid JSON: trailing comma at line 1 column 58",
    );
    fails_at_line_6(
        b"not json at all",
        "line 6: invalid JSON: expected ident at line 1 column 2",
    );
}

#[test]
fn json_that_is_not_an_object() {
    for line in [&b"[1, 2, 3]"[..], b"\"RECORD\"", b"42", b"null"] {
        fails_at_line_6(line, "line 6: message is not a JSON object");
    }
}

#[test]
fn missing_or_ill_typed_type() {
    fails_at_line_6(
        br#"{"stream": "users", "record": {"id": 5}}"#,
        "line 6: missing field `type`",
    );
    fails_at_line_6(
        br#"{"type": 7, "stream": "users", "record": {"id": 5}}"#,
        "line 6: field `type` must be a string",
    );
}

#[test]
fn unknown_type_is_a_warning_only() {
    let tail = lines(&[
        r#"{"type": "BATCH", "stream": "users"}"#.to_string(),
        record("users", json!({"id": 4, "name": "dee"})),
        state(json!({"n": 4})),
    ]);
    let (dir, out) = run_after_prefix(json!({}), tail.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings = stderr_lines_with(&out, "unknown type");
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    assert!(
        warnings[0].contains("WARN") && warnings[0].contains("BATCH"),
        "{warnings:?}"
    );
    assert_eq!(stdout_json(&out), [json!({"n": 2}), json!({"n": 4})]);
    assert_eq!(
        rows(&db_path(&dir), "SELECT id FROM users ORDER BY id"),
        json!([[1], [2], [3], [4]])
    );
    // Lower-case types are Singer types too.
    let tail = lines(&[
        r#"{"type": "record", "stream": "users", "record": {"id": 4}}"#.to_string(),
        r#"{"type": "State", "value": {"n": 4}}"#.to_string(),
    ]);
    let (dir, out) = run_after_prefix(json!({}), tail.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out), [json!({"n": 2}), json!({"n": 4})]);
    assert_eq!(
        rows(&db_path(&dir), "SELECT id FROM users ORDER BY id"),
        json!([[1], [2], [3], [4]])
    );
}

#[test]
fn record_before_its_schema() {
    fails_at_line_6(
        record("ghosts", json!({"id": 1})).as_bytes(),
        "line 6: RECORD for stream `ghosts` before its SCHEMA",
    );
}

#[test]
fn schema_without_properties() {
    fails_at_line_6(
        br#"{"type": "SCHEMA", "stream": "items", "schema": {"type": "object"}, "key_properties": []}"#,
        "line 6: stream `items`: schema has no `properties` object",
    );
    fails_at_line_6(
        br#"{"type": "SCHEMA", "stream": "items", "key_properties": []}"#,
        "line 6: missing field `schema`",
    );
}

#[test]
fn key_property_that_the_schema_lacks() {
    fails_at_line_6(
        schema("items", json!({"name": {"type": "string"}}), &["id"]).as_bytes(),
        "line 6: stream `items`: key property `id` is not a declared top-level scalar property",
    );
}

#[test]
fn record_missing_a_key_property() {
    fails_at_line_6(
        record("users", json!({"name": "eve"})).as_bytes(),
        "line 6: stream `users`: record is missing key property `id`",
    );
}

#[test]
fn record_with_a_null_key() {
    fails_at_line_6(
        record("users", json!({"id": null, "name": "eve"})).as_bytes(),
        "line 6: stream `users`: key property `id` is null",
    );
    // Without validation too.
    let tail = lines(&[record("users", json!({"id": null, "name": "eve"}))]);
    let (dir, out) = run_after_prefix(json!({"validate_records": false}), tail.as_bytes());
    assert_error(&out, "line 6: stream `users`: key property `id` is null");
    assert_only_first_state_committed(&dir, &out);
}

#[test]
fn non_utf8_bytes() {
    let good = br#"{"type": "RECORD", "stream": "users", "record": {"id": 5, "name": ""#;
    let mut line = good.to_vec();
    line.extend_from_slice(b"\xff\xfe\"}}");
    fails_at_line_6(
        &line,
        &format!("line 6: invalid UTF-8 at byte {}", good.len()),
    );
}

#[test]
fn state_without_value() {
    fails_at_line_6(br#"{"type": "STATE"}"#, "line 6: missing field `value`");
}

#[test]
fn truncated_last_line_that_is_valid_json_is_accepted() {
    let mut tail = record("users", json!({"id": 4, "name": "dee"})).into_bytes();
    tail.push(b'\n');
    tail.extend_from_slice(state(json!({"n": 4})).as_bytes()); // no newline
    let (dir, out) = run_after_prefix(json!({}), &tail);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out), [json!({"n": 2}), json!({"n": 4})]);
    assert_eq!(
        rows(&db_path(&dir), "SELECT id FROM users ORDER BY id"),
        json!([[1], [2], [3], [4]])
    );
}

#[test]
fn truncated_last_line_that_is_invalid_json_is_an_error() {
    let mut tail = record("users", json!({"id": 4, "name": "dee"})).into_bytes();
    tail.push(b'\n');
    tail.extend_from_slice(br#"{"type": "STATE", "value": {"n": 5"#); // cut off, no newline
    let (dir, out) = run_after_prefix(json!({}), &tail);
    assert_error(
        &out,
        "line 7: invalid JSON: EOF while parsing an object at line 1 column 34",
    );
    assert_only_first_state_committed(&dir, &out);
}

/// A line just over the 64 MiB default, streamed through a pipe in 1 MiB pieces.
#[test]
fn over_long_line() {
    const MAX: usize = 64 * 1024 * 1024;
    let (dir, _) = setup_with(json!({"batch_size_rows": 1}));
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config_path(&dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        stdin.write_all(&users_prefix())?;
        let head = br#"{"type": "RECORD", "stream": "users", "record": {"id": 9, "name": ""#;
        let tail = b"\"}}\n";
        stdin.write_all(head)?;
        let chunk = vec![b'x'; 1 << 20];
        let mut left = MAX + 1 - head.len() - (tail.len() - 1);
        while left > 0 {
            let n = left.min(chunk.len());
            stdin.write_all(&chunk[..n])?;
            left -= n;
        }
        stdin.write_all(tail)?;
        stdin.write_all(record("users", json!({"id": 10})).as_bytes())?;
        stdin.write_all(b"\n")
    });
    let out = child.wait_with_output().unwrap();
    // The target may exit before the last line is written; a broken pipe is fine then.
    let _ = writer.join().unwrap();
    assert_error(&out, &format!("line 6: line longer than {MAX} bytes"));
    assert_only_first_state_committed(&dir, &out);
}

#[test]
fn database_folder_is_created() {
    let (dir, _) = setup();
    let db = dir.path().join("a/b/c/out.db");
    write_config(&dir, json!({"database": db}));
    let out = run_ok(&mut cmd(&dir), users_prefix());
    assert_eq!(stdout_json(&out), [json!({"n": 2})]);
    assert_eq!(
        rows(&db, "SELECT id FROM users ORDER BY id"),
        json!([[1], [2], [3]])
    );
}

#[test]
fn database_folder_that_cannot_be_created() {
    let (dir, _) = setup();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "not a folder").unwrap();
    let db = file.join("sub/out.db");
    write_config(&dir, json!({"database": db}));
    let out = run(&mut cmd(&dir), users_prefix());
    assert_error(
        &out,
        &format!(
            "cannot create folder {} for database {}: Not a directory (os error 20)",
            file.join("sub").display(),
            db.display()
        ),
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
}

fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output();
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim() == "0",
        Err(_) => std::env::var("USER").is_ok_and(|u| u == "root"),
    }
}

/// A read-only folder only stops a non-root user; root writes anywhere.
#[test]
fn database_in_a_read_only_folder() {
    use std::os::unix::fs::PermissionsExt as _;
    if running_as_root() {
        eprintln!("skipped: root ignores folder permissions");
        return;
    }
    let (dir, _) = setup();
    let folder = dir.path().join("ro");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let db = folder.join("out.db");
    write_config(&dir, json!({"database": db}));
    let out = run(&mut cmd(&dir), users_prefix());
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_error(
        &out,
        &format!(
            "cannot open database {0}: unable to open database file: {0}",
            db.display()
        ),
    );
    assert!(out.stdout.is_empty());
    assert!(!db.exists());
}

#[test]
fn database_file_that_is_not_sqlite() {
    let (dir, mut cmd) = setup();
    let text = "name,id\nann,1\nbob,2\n".repeat(100);
    std::fs::write(db_path(&dir), &text).unwrap();
    let out = run(&mut cmd, users_prefix());
    assert_error(
        &out,
        &format!(
            "cannot use database {}: file is not a database",
            db_path(&dir).display()
        ),
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(db_path(&dir)).unwrap(), text);
}

/// Stream and property names with quotes, spaces, SQL and unicode become safe identifiers;
/// nothing they contain runs as SQL.
#[test]
fn hostile_stream_and_property_names() {
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, fixture("hostile_names.singer"));
    assert_eq!(stdout_json(&out), [json!({"done": true})]);
    let db = db_path(&dir);
    assert_eq!(
        tables(&db),
        ["_n_c_d_", "a_b", "user_events", "x_drop_table_y_", "y",]
    );
    let mut cols = data_columns(&db, "x_drop_table_y_");
    cols.sort();
    assert_eq!(cols, ["_drop_table_y_", "id", "sp_ace", "we_ird"]);
    assert_eq!(
        rows(
            &db,
            r#"SELECT id, we_ird, sp_ace, _drop_table_y_ FROM "x_drop_table_y_""#
        ),
        json!([[1, "q\"uote", "s p", "'); DROP TABLE y; --"]])
    );
    assert_eq!(rows(&db, "SELECT id FROM y"), json!([[1]]));
    assert_eq!(rows(&db, "SELECT id FROM user_events"), json!([[7]]));
    assert_eq!(
        rows(&db, "SELECT id, caf_ FROM _n_c_d_"),
        json!([["ü", "☕"]])
    );
    assert_eq!(rows(&db, "SELECT id FROM a_b"), json!([[1]]));
    let summary = stderr(&out);
    assert!(
        summary.contains("  x\"; DROP TABLE y; --: 1 inserted, 0 updated, 0 rejected"),
        "{summary}"
    );
}

#[test]
fn two_streams_that_map_to_one_table() {
    let input = lines(&[
        schema("UserEvents", json!({"id": {"type": "integer"}}), &["id"]),
        record("UserEvents", json!({"id": 1})),
        state(json!(1)),
        schema("user events", json!({"id": {"type": "integer"}}), &["id"]),
        record("user events", json!({"id": 2})),
    ]);
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 1}));
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 4: stream `user events` maps to table `user_events`, which stream `UserEvents` already uses",
    );
    assert_eq!(stdout_json(&out), [json!(1)]);
    assert_eq!(
        rows(&db_path(&dir), "SELECT id FROM user_events"),
        json!([[1]])
    );
}

#[test]
fn stream_named_like_the_rejected_records_table() {
    let input = lines(&[schema(
        "_sdc_rejected_records",
        json!({"id": {"type": "integer"}}),
        &[],
    )]);
    let (dir, mut cmd) = setup();
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 1: stream `_sdc_rejected_records` maps to table `_sdc_rejected_records`, which _sdc_rejected_records already uses",
    );
    assert!(tables(&db_path(&dir)).is_empty());
}

/// Ill-formed fields of known message types, each named in the error.
#[test]
fn ill_formed_messages() {
    for (line, message) in [
        (
            r#"{"type": "RECORD", "record": {"id": 5}}"#,
            "line 6: missing field `stream`",
        ),
        (
            r#"{"type": "RECORD", "stream": "users", "record": [5]}"#,
            "line 6: field `record` must be an object",
        ),
        (
            r#"{"type": "RECORD", "stream": "users"}"#,
            "line 6: missing field `record`",
        ),
        (
            r#"{"type": "SCHEMA", "stream": "x", "schema": {"properties": {}}, "key_properties": "id"}"#,
            "line 6: field `key_properties` must be an array of strings",
        ),
        (
            r#"{"type": "ACTIVATE_VERSION", "stream": "users"}"#,
            "line 6: missing field `version`",
        ),
    ] {
        fails_at_line_6(line.as_bytes(), message);
    }
}

/// Blank lines count as lines, and CRLF line ends are accepted, so the numbers in errors are
/// the numbers an editor shows.
#[test]
fn blank_lines_and_crlf_keep_line_numbers() {
    let input = [
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        String::new(),
        record("s", json!({"id": 1})),
        "   ".to_string(),
        state(json!(1)),
        "{bad".to_string(),
    ]
    .join("\r\n");
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 1}));
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 6: invalid JSON: key must be a string at line 1 column 2",
    );
    assert_eq!(stdout_json(&out), [json!(1)]);
    assert_eq!(rows(&db_path(&dir), "SELECT id FROM s"), json!([[1]]));
}

#[test]
fn schema_that_is_not_a_valid_json_schema() {
    fails_at_line_6(
        schema(
            "items",
            json!({"id": {"type": "integer", "minimum": "zero"}}),
            &[],
        )
        .as_bytes(),
        "line 6: stream `items`: invalid JSON Schema: \"zero\" is not of type \"number\"",
    );
}
