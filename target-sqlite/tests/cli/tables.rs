//! Tables: naming, types, flattening, upserts, append-only streams, schema evolution, metadata
//! columns, ACTIVATE_VERSION, undeclared properties and the end-of-run summary.

use serde_json::{Value, json};

use crate::support::*;
use crate::validation::is_timestamp;

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not text: {v}"))
}

#[test]
fn names_and_types() {
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, fixture("types.singer"));
    assert_eq!(
        stdout_json(&out),
        [json!({"bookmarks": {"pullRequests": {"updated_at": "2024-05-03"}}})]
    );
    let db = db_path(&dir);
    assert_eq!(tables(&db), ["pull_requests"]);
    let cols: Vec<(String, String, i64)> = columns(&db, "pull_requests");
    let want = [
        ("id", "INTEGER", 1),
        ("html_url", "TEXT", 0),
        ("score", "REAL", 0),
        ("is_draft", "INTEGER", 0),
        ("created_at", "TEXT", 0),
        ("labels", "TEXT", 0),
        ("extra", "TEXT", 0),
        ("head__sha", "TEXT", 0),
        ("head__repo__full_name", "TEXT", 0),
        ("head__repo__stars", "INTEGER", 0),
        ("maybe_count", "INTEGER", 0),
        ("mixed", "TEXT", 0),
        ("untyped", "TEXT", 0),
        ("_2fa", "INTEGER", 0),
        ("_sdc_extracted_at", "TEXT", 0),
        ("_sdc_received_at", "TEXT", 0),
        ("_sdc_batched_at", "TEXT", 0),
        ("_sdc_deleted_at", "TEXT", 0),
        ("_sdc_sequence", "INTEGER", 0),
        ("_sdc_table_version", "INTEGER", 0),
    ];
    let mut want: Vec<(String, String, i64)> = want
        .iter()
        .map(|(n, t, pk)| (n.to_string(), t.to_string(), *pk))
        .collect();
    // Column order follows the schema's property order only with serde_json's
    // `preserve_order`; what matters is the set of columns and their types.
    let mut cols = cols;
    cols.sort();
    want.sort();
    assert_eq!(cols, want);
    assert_eq!(
        rows(
            &db,
            "SELECT id, html_url, score, is_draft, created_at, labels, extra, head__sha,
                head__repo__full_name, head__repo__stars, maybe_count, mixed, untyped, _2fa,
                typeof(score), typeof(is_draft)
             FROM pull_requests ORDER BY id"
        ),
        json!([
            [
                1,
                "https://example.invalid/1",
                1.5,
                1,
                "2024-05-01T12:00:00Z",
                r#"["bug","ui"]"#,
                r#"{"k":[1,{"z":null}]}"#,
                "abc",
                "o/r",
                5,
                3,
                r#""s""#,
                "[true]",
                0,
                "real",
                "integer"
            ],
            [
                2,
                "https://example.invalid/2",
                null,
                0,
                "2024-05-02T12:00:00Z",
                "[]",
                "{}",
                "def",
                null,
                null,
                null,
                "7",
                r#""text""#,
                1,
                "null",
                "integer"
            ],
            [
                3,
                "https://example.invalid/3",
                null,
                0,
                "2024-05-03T12:00:00Z",
                r#"["x"]"#,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                "null",
                "integer"
            ],
        ])
    );
}

#[test]
fn flatten_max_depth_stores_deeper_objects_as_json() {
    let (dir, mut cmd) = setup_with(json!({"flatten_max_depth": 1}));
    run_ok(&mut cmd, fixture("types.singer"));
    let db = db_path(&dir);
    let cols = data_columns(&db, "pull_requests");
    assert!(
        cols.contains(&"head__repo".to_string())
            && !cols.iter().any(|c| c.starts_with("head__repo__")),
        "{cols:?}"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT head__sha, head__repo FROM pull_requests ORDER BY id"
        ),
        json!([
            ["abc", r#"{"fullName":"o/r","stars":5}"#],
            ["def", null],
            [null, null]
        ])
    );

    let (dir, mut cmd) = setup_with(json!({"flatten_max_depth": 0}));
    run_ok(&mut cmd, fixture("types.singer"));
    let db = db_path(&dir);
    assert!(
        !data_columns(&db, "pull_requests")
            .iter()
            .any(|c| c.contains("__"))
    );
    let heads: Vec<Value> = rows(&db, "SELECT head FROM pull_requests ORDER BY id")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r[0].as_str()
                .map_or(Value::Null, |t| serde_json::from_str(t).unwrap())
        })
        .collect();
    assert_eq!(
        heads,
        [
            json!({"sha": "abc", "repo": {"fullName": "o/r", "stars": 5}}),
            json!({"sha": "def", "repo": null}),
            Value::Null
        ]
    );
}

/// Reads input from a file with `--input`, same result as stdin.
#[test]
fn input_file_instead_of_stdin() {
    let (dir, mut cmd) = setup();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/types.singer");
    let out = cmd.arg("--input").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out).len(), 1);
    assert_eq!(
        rows(&db_path(&dir), "SELECT id FROM pull_requests ORDER BY id"),
        json!([[1], [2], [3]])
    );
    let out = cmd_missing_input(&dir);
    assert_error(
        &out,
        &format!(
            "cannot open input {}: No such file or directory (os error 2)",
            dir.path().join("missing.singer").display()
        ),
    );
}

fn cmd_missing_input(dir: &tempfile::TempDir) -> std::process::Output {
    cmd(dir)
        .arg("--input")
        .arg(dir.path().join("missing.singer"))
        .output()
        .unwrap()
}

const ISSUES: &str = "SELECT repo, number, title, state FROM issues ORDER BY repo, number";

/// Last write wins, also between duplicates inside one batch; a second run updates only.
#[test]
fn upsert_last_write_wins() {
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, fixture("duplicate_keys.singer"));
    assert_eq!(stdout_json(&out), [json!({"page": 1})]);
    let db = db_path(&dir);
    let want = json!([
        ["a/b", 1, "first, closed", "closed"],
        ["a/b", 2, "second, no state", null],
        ["c/d", 1, "other repo", "open"],
    ]);
    assert_eq!(rows(&db, ISSUES), want);
    let mut pk: Vec<(i64, String)> = columns(&db, "issues")
        .into_iter()
        .filter(|c| c.2 > 0)
        .map(|c| (c.2, c.0))
        .collect();
    pk.sort();
    assert_eq!(pk, [(1, "repo".to_string()), (2, "number".to_string())]);
    let err = stderr(&out);
    assert!(
        err.contains("\n  issues: 3 inserted, 3 updated, 0 rejected, 0 deactivated\n"),
        "{err}"
    );
    let summary = err.lines().find(|l| l.starts_with("loaded ")).unwrap();
    assert!(
        summary.starts_with("loaded 6 records in ")
            && summary.ends_with(" records/s), 1 commits, 1 states echoed"),
        "{summary}"
    );

    let out = run_ok(&mut cmd, fixture("duplicate_keys.singer"));
    assert_eq!(stdout_json(&out), [json!({"page": 1})]);
    assert_eq!(rows(&db, ISSUES), want);
    let err = stderr(&out);
    assert!(
        err.contains("\n  issues: 0 inserted, 6 updated, 0 rejected, 0 deactivated\n"),
        "{err}"
    );
}

/// Without key properties every record is a new row, duplicates and reruns included.
#[test]
fn append_only_without_keys() {
    let input = fixture("duplicate_keys.singer").replace(
        r#""key_properties": ["repo", "number"]"#,
        r#""key_properties": []"#,
    );
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, input.clone());
    let db = db_path(&dir);
    assert!(columns(&db, "issues").iter().all(|c| c.2 == 0));
    let sql = "SELECT repo, number, title FROM issues ORDER BY _sdc_sequence";
    let once = json!([
        ["a/b", 1, "first"],
        ["a/b", 2, "second"],
        ["c/d", 1, "other repo"],
        ["a/b", 1, "first, edited"],
        ["a/b", 1, "first, closed"],
        ["a/b", 2, "second, no state"],
    ]);
    assert_eq!(rows(&db, sql), once);
    assert!(stderr(&out).contains("  issues: 6 inserted, 0 updated, 0 rejected"));

    run_ok(&mut cmd, input);
    let mut twice = once.as_array().unwrap().clone();
    twice.extend(once.as_array().unwrap().iter().cloned());
    assert_eq!(rows(&db, sql), Value::Array(twice));
}

/// A later SCHEMA adds columns, keeps removed ones (NULL from then on, also for upserted
/// rows) and keeps a column whose type changed, with a warning.
#[test]
fn schema_evolution() {
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 1}));
    let out = run_ok(&mut cmd, fixture("schema_updates.singer"));
    assert_eq!(stdout_json(&out), [json!({"v": 1}), json!({"v": 2})]);
    let db = db_path(&dir);
    let cols: Vec<(String, String)> = columns(&db, "repos")
        .into_iter()
        .filter(|c| !c.0.starts_with("_sdc_"))
        .map(|c| (c.0, c.1))
        .collect();
    let want = [
        ("id", "INTEGER"),
        ("name", "TEXT"),
        ("stars", "INTEGER"),
        ("topic", "TEXT"),
        ("license", "TEXT"),
        ("owner__login", "TEXT"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    assert_eq!(cols, want);
    assert_eq!(
        rows(
            &db,
            "SELECT id, name, stars, topic, license, owner__login FROM repos ORDER BY id"
        ),
        json!([
            [1, "one", 10, "a", null, null],
            [2, "two again", null, "7", "MIT", "ann"],
            [3, "three", null, "8", null, "bob"],
        ])
    );
    let changed = stderr_lines_with(&out, "column type changed");
    assert_eq!(changed.len(), 1, "{}", stderr(&out));
    assert!(
        changed[0].contains("WARN")
            && changed[0].contains("column=topic")
            && changed[0].contains("was=TEXT")
            && changed[0].contains(r#"now="INTEGER""#),
        "{changed:?}"
    );
    let added = stderr_lines_with(&out, "added column");
    assert_eq!(added.len(), 2, "{}", stderr(&out));
    assert!(added[0].contains("column=license") && added[1].contains("column=owner__login"));

    // A second run with yet another schema evolves the existing table the same way.
    let input = lines(&[
        schema(
            "repos",
            json!({"id": {"type": "integer"}, "name": {"type": "string"}, "forks": {"type": "integer"}}),
            &["id"],
        ),
        record("repos", json!({"id": 1, "name": "one again", "forks": 4})),
        state(json!({"v": 3})),
    ]);
    let out = run_ok(&mut cmd, input);
    assert_eq!(stdout_json(&out), [json!({"v": 3})]);
    assert_eq!(
        rows(
            &db,
            "SELECT id, name, stars, topic, license, owner__login, forks FROM repos ORDER BY id"
        ),
        json!([
            [1, "one again", null, null, null, null, 4],
            [2, "two again", null, "7", "MIT", "ann", null],
            [3, "three", null, "8", null, "bob", null],
        ])
    );
}

#[test]
fn changed_key_properties_on_an_existing_table() {
    let (dir, mut cmd) = setup();
    run_ok(&mut cmd, fixture("duplicate_keys.singer"));
    let db = db_path(&dir);
    let before = rows(&db, ISSUES);

    let changed = fixture("duplicate_keys.singer").replace(
        r#""key_properties": ["repo", "number"]"#,
        r#""key_properties": ["number"]"#,
    );
    let out = run(&mut cmd, changed);
    assert_error(
        &out,
        r#"line 1: stream `issues`: key_properties ["number"] differ from the primary key ["repo", "number"] of existing table `issues`"#,
    );
    assert!(out.stdout.is_empty());

    let none = fixture("duplicate_keys.singer").replace(
        r#""key_properties": ["repo", "number"]"#,
        r#""key_properties": []"#,
    );
    let out = run(&mut cmd, none);
    assert_error(
        &out,
        r#"line 1: stream `issues`: key_properties [] differ from the primary key ["repo", "number"] of existing table `issues`"#,
    );
    assert_eq!(rows(&db, ISSUES), before);

    // Within one run, a second SCHEMA may not change them either.
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 1}));
    let input = lines(&[
        schema(
            "s",
            json!({"id": {"type": "integer"}, "b": {"type": "integer"}}),
            &["id"],
        ),
        record("s", json!({"id": 1, "b": 1})),
        state(json!(1)),
        record("s", json!({"id": 2, "b": 2})),
        schema(
            "s",
            json!({"id": {"type": "integer"}, "b": {"type": "integer"}}),
            &["b"],
        ),
    ]);
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        r#"line 5: stream `s`: key_properties changed from ["id"] to ["b"]"#,
    );
    assert_eq!(stdout_json(&out), [json!(1)]);
    assert_eq!(rows(&db_path(&dir), "SELECT id, b FROM s"), json!([[1, 1]]));
}

#[test]
fn metadata_columns() {
    let input = lines(&[
        schema(
            "s",
            json!({"id": {"type": "integer"}, "v": {"type": "string"}, "_sdc_deleted_at": {"type": ["null", "string"]}}),
            &["id"],
        ),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 1, "v": "a"},
            "time_extracted": "2024-01-02T03:04:05.000006Z", "version": 1700000000000_i64})
        .to_string(),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 2, "v": "b"}}).to_string(),
        state(json!(1)),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 3, "v": "c", "_sdc_deleted_at": "2024-02-02T00:00:00Z"},
            "time_extracted": "2024-01-03T00:00:00Z", "version": 1700000000001_i64})
        .to_string(),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 1, "v": "a2"},
            "time_extracted": "2024-01-04T00:00:00Z", "version": 1700000000001_i64})
        .to_string(),
        state(json!(2)),
    ]);
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 1}));
    let out = run_ok(&mut cmd, input);
    assert_eq!(stdout_json(&out), [json!(1), json!(2)]);
    let db = db_path(&dir);
    let got = rows(
        &db,
        "SELECT id, v, _sdc_extracted_at, _sdc_deleted_at, _sdc_table_version,
            _sdc_received_at, _sdc_batched_at, _sdc_sequence FROM s ORDER BY _sdc_sequence",
    );
    let got = got.as_array().unwrap();
    let fixed: Vec<Value> = got
        .iter()
        .map(|r| json!(r.as_array().unwrap()[..5]))
        .collect();
    assert_eq!(
        fixed,
        [
            json!([2, "b", null, null, null]),
            json!([
                3,
                "c",
                "2024-01-03T00:00:00Z",
                "2024-02-02T00:00:00Z",
                1700000000001_i64
            ]),
            json!([1, "a2", "2024-01-04T00:00:00Z", null, 1700000000001_i64]),
        ]
    );
    let mut last_seq = 0;
    for r in got {
        assert!(is_timestamp(text(&r[5])), "{r}");
        assert!(is_timestamp(text(&r[6])), "{r}");
        assert!(text(&r[6]) <= text(&r[5]), "batched before received: {r}");
        let seq = r[7].as_i64().unwrap();
        assert!(seq > last_seq, "{r}");
        last_seq = seq;
    }
    // The two transactions have their own batch times.
    assert_ne!(got[0][6], got[1][6]);
    assert_eq!(got[1][6], got[2][6]);

    // Without metadata: no `_sdc_` columns, and ACTIVATE_VERSION is ignored with a warning.
    let (dir, mut cmd) = setup_with(json!({"add_record_metadata": false}));
    let out = run_ok(&mut cmd, fixture("activate_version.singer"));
    let db = db_path(&dir);
    let names: Vec<String> = columns(&db, "teams").into_iter().map(|c| c.0).collect();
    assert_eq!(names, ["id", "name"]);
    assert_eq!(
        rows(&db, "SELECT id, name FROM teams ORDER BY id"),
        json!([[1, "core"], [2, "docs v2"], [3, "ops"], [4, "infra"]])
    );
    assert_eq!(
        stderr_lines_with(&out, "ACTIVATE_VERSION ignored").len(),
        3,
        "{}",
        stderr(&out)
    );
}

#[test]
fn activate_version_marks_older_versions_deleted() {
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, fixture("activate_version.singer"));
    assert_eq!(stdout_json(&out), [json!({"sync": 1}), json!({"sync": 2})]);
    let db = db_path(&dir);
    let got = rows(
        &db,
        "SELECT id, name, _sdc_table_version, _sdc_deleted_at FROM teams ORDER BY id",
    );
    let got = got.as_array().unwrap();
    let fixed: Vec<Value> = got
        .iter()
        .map(|r| json!(r.as_array().unwrap()[..3]))
        .collect();
    assert_eq!(
        fixed,
        [
            json!([1, "core", 1]),
            json!([2, "docs v2", 2]),
            json!([3, "ops", 1]),
            json!([4, "infra", 2]),
        ]
    );
    assert!(is_timestamp(text(&got[0][3])), "{got:?}");
    assert!(is_timestamp(text(&got[2][3])), "{got:?}");
    assert!(got[1][3].is_null() && got[3][3].is_null(), "{got:?}");
    assert!(
        stderr(&out).contains("  teams: 4 inserted, 1 updated, 0 rejected, 2 deactivated\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn activate_version_hard_delete() {
    let (dir, mut cmd) = setup_with(json!({"hard_delete": true}));
    let out = run_ok(&mut cmd, fixture("activate_version.singer"));
    assert_eq!(stdout_json(&out), [json!({"sync": 1}), json!({"sync": 2})]);
    assert_eq!(
        rows(
            &db_path(&dir),
            "SELECT id, name, _sdc_table_version, _sdc_deleted_at FROM teams ORDER BY id"
        ),
        json!([[2, "docs v2", 2, null], [4, "infra", 2, null]])
    );
    assert!(stderr(&out).contains("  teams: 4 inserted, 1 updated, 0 rejected, 2 deactivated\n"));
}

#[test]
fn properties_that_normalise_to_one_column() {
    let (dir, mut cmd) = setup();
    let input = lines(&[schema(
        "s",
        json!({"id": {"type": "integer"}, "userId": {"type": "integer"}, "user_id": {"type": "string"}}),
        &["id"],
    )]);
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 1: stream `s`: properties `userId` and `user_id` both map to column `user_id`",
    );
    assert!(tables(&db_path(&dir)).is_empty());

    let input = lines(&[schema(
        "s",
        json!({"a": {"type": "object", "properties": {"b": {"type": "string"}}}, "a__b": {"type": "string"}}),
        &[],
    )]);
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 1: stream `s`: properties `a.b` and `a__b` both map to column `a__b`",
    );
}

#[test]
fn undeclared_properties_are_dropped_with_one_warning_each() {
    let props = json!({"id": {"type": "integer"}, "owner": {"type": "object", "properties": {"login": {"type": "string"}}}});
    let mut messages = vec![schema("a", props.clone(), &["id"]), schema("b", props, &[])];
    for i in 0..3 {
        for stream in ["a", "b"] {
            messages.push(record(
                stream,
                json!({"id": i, "extra": i, "owner": {"login": "x", "site": true}}),
            ));
        }
    }
    messages.push(record("a", json!({"id": 9, "other": 1})));
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, lines(&messages));
    let mut warnings: Vec<(String, String)> = stderr_lines_with(&out, "does not declare")
        .iter()
        .map(|l| {
            assert!(l.contains("WARN"), "{l}");
            let field = |k: &str| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .unwrap()
                    .to_string()
            };
            (field("stream="), field("property="))
        })
        .collect();
    warnings.sort();
    let want = [
        ("a", "extra"),
        ("a", "other"),
        ("a", "owner.site"),
        ("b", "extra"),
        ("b", "owner.site"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(s, p)| (s.to_string(), p.to_string()))
        .collect();
    assert_eq!(warnings, want, "{}", stderr(&out));
    let db = db_path(&dir);
    assert_eq!(data_columns(&db, "a"), ["id", "owner__login"]);
    assert_eq!(data_columns(&db, "b"), ["id", "owner__login"]);
    assert_eq!(
        rows(&db, "SELECT id, owner__login FROM a ORDER BY id"),
        json!([[0, "x"], [1, "x"], [2, "x"], [9, null]])
    );
}

/// A later SCHEMA for the stream does not repeat the warnings already given.
#[test]
fn undeclared_property_warning_survives_a_schema_change() {
    let input = lines(&[
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        record("s", json!({"id": 1, "extra": 1})),
        schema(
            "s",
            json!({"id": {"type": "integer"}, "name": {"type": "string"}}),
            &["id"],
        ),
        record("s", json!({"id": 2, "name": "b", "extra": 2})),
    ]);
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, input);
    assert_eq!(
        stderr_lines_with(&out, "does not declare").len(),
        1,
        "{}",
        stderr(&out)
    );
    assert_eq!(
        rows(&db_path(&dir), "SELECT id, name FROM s ORDER BY id"),
        json!([[1, null], [2, "b"]])
    );
}
