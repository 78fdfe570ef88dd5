//! Tables: PostgreSQL types, naming (and 63-byte identifiers), flattening, upserts through the
//! staging table, append-only streams, schema evolution, metadata, ACTIVATE_VERSION and the
//! `\u0000` rule. Fixtures are target-sqlite's.

use serde_json::{Value, json};

use crate::support::*;

fn typed(cols: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    let mut v: Vec<_> = cols
        .iter()
        .map(|(n, t, k)| (n.to_string(), t.to_string(), *k))
        .collect();
    v.sort();
    v
}

#[test]
fn names_and_types() {
    let s = setup();
    let out = run_ok(&mut s.cmd(), fixture("types.singer"));
    assert_eq!(
        stdout_json(&out),
        [json!({"bookmarks": {"pullRequests": {"updated_at": "2024-05-03"}}})]
    );
    assert_eq!(s.tables(), ["pull_requests"]);
    let mut cols = s.columns("pull_requests");
    cols.sort();
    let ts = "timestamp with time zone";
    assert_eq!(
        cols,
        typed(&[
            ("id", "bigint", 1),
            ("html_url", "text", 0),
            ("score", "numeric", 0),
            ("is_draft", "boolean", 0),
            ("created_at", ts, 0),
            ("labels", "jsonb", 0),
            ("extra", "jsonb", 0),
            ("head__sha", "text", 0),
            ("head__repo__full_name", "text", 0),
            ("head__repo__stars", "bigint", 0),
            ("maybe_count", "bigint", 0),
            ("mixed", "jsonb", 0),
            ("untyped", "jsonb", 0),
            ("_2fa", "boolean", 0),
            ("_sdc_extracted_at", ts, 0),
            ("_sdc_received_at", ts, 0),
            ("_sdc_batched_at", ts, 0),
            ("_sdc_deleted_at", ts, 0),
            ("_sdc_sequence", "bigint", 0),
            ("_sdc_table_version", "bigint", 0),
        ])
    );
    assert_eq!(
        s.rows(
            "SELECT id, html_url, score::text, is_draft, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created,
                labels, extra, head__sha, head__repo__full_name, head__repo__stars, maybe_count, mixed,
                untyped, _2fa FROM tap.pull_requests ORDER BY id"
        ),
        json!([
            {"id": 1, "html_url": "https://example.invalid/1", "score": "1.5", "is_draft": true,
             "created": "2024-05-01 12:00:00", "labels": ["bug", "ui"], "extra": {"k": [1, {"z": null}]},
             "head__sha": "abc", "head__repo__full_name": "o/r", "head__repo__stars": 5,
             "maybe_count": 3, "mixed": "s", "untyped": [true], "_2fa": false},
            {"id": 2, "html_url": "https://example.invalid/2", "score": null, "is_draft": false,
             "created": "2024-05-02 12:00:00", "labels": [], "extra": {}, "head__sha": "def",
             "head__repo__full_name": null, "head__repo__stars": null, "maybe_count": null,
             "mixed": 7, "untyped": "text", "_2fa": true},
            {"id": 3, "html_url": "https://example.invalid/3", "score": null, "is_draft": false,
             "created": "2024-05-03 12:00:00", "labels": ["x"], "extra": null, "head__sha": null,
             "head__repo__full_name": null, "head__repo__stars": null, "maybe_count": null,
             "mixed": null, "untyped": null, "_2fa": null},
        ])
    );
}

const ISSUES: &str = "SELECT repo, number, title, state FROM tap.issues ORDER BY repo, number";

/// Last write wins, also between duplicates inside one batch; a second run updates only.
#[test]
fn upsert_last_write_wins() {
    let s = setup();
    let out = run_ok(&mut s.cmd(), fixture("duplicate_keys.singer"));
    assert_eq!(stdout_json(&out), [json!({"page": 1})]);
    let want = json!([
        {"repo": "a/b", "number": 1, "title": "first, closed", "state": "closed"},
        {"repo": "a/b", "number": 2, "title": "second, no state", "state": null},
        {"repo": "c/d", "number": 1, "title": "other repo", "state": "open"},
    ]);
    assert_eq!(s.rows(ISSUES), want);
    let mut pk: Vec<(i64, String)> = s
        .columns("issues")
        .into_iter()
        .filter(|c| c.2 > 0)
        .map(|c| (c.2, c.0))
        .collect();
    pk.sort();
    let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
    assert_eq!(pk, ["repo", "number"]);
    assert!(
        stderr(&out).contains("\n  issues: 3 inserted, 3 updated, 0 rejected, 0 deactivated\n"),
        "{}",
        stderr(&out)
    );
    let out = run_ok(&mut s.cmd(), fixture("duplicate_keys.singer"));
    assert_eq!(s.rows(ISSUES), want);
    assert!(
        stderr(&out).contains("\n  issues: 0 inserted, 6 updated, 0 rejected, 0 deactivated\n"),
        "{}",
        stderr(&out)
    );
}

/// Without key properties every record is a new row (COPY straight into the table).
#[test]
fn append_only_without_keys() {
    let input = fixture("duplicate_keys.singer").replace(
        r#""key_properties": ["repo", "number"]"#,
        r#""key_properties": []"#,
    );
    let s = setup();
    run_ok(&mut s.cmd(), input.clone());
    run_ok(&mut s.cmd(), input);
    let titles = s.column("SELECT title FROM tap.issues ORDER BY _sdc_sequence");
    let once = [
        "first",
        "second",
        "other repo",
        "first, edited",
        "first, closed",
        "second, no state",
    ];
    let want: Vec<Value> = once.iter().chain(once.iter()).map(|t| json!(t)).collect();
    assert_eq!(titles, want);
}

/// New columns are added, removed ones kept (NULL from then on), a changed type is kept and
/// its values written for the column's own type.
#[test]
fn schema_evolution() {
    let s = setup_with(json!({"batch_size_rows": 1}));
    let out = run_ok(&mut s.cmd(), fixture("schema_updates.singer"));
    assert_eq!(stdout_json(&out), [json!({"v": 1}), json!({"v": 2})]);
    let cols: Vec<(String, String)> = s
        .columns("repos")
        .into_iter()
        .filter(|c| !c.0.starts_with("_sdc_"))
        .map(|c| (c.0, c.1))
        .collect();
    let want: Vec<(String, String)> = [
        ("id", "bigint"),
        ("name", "text"),
        ("stars", "bigint"),
        ("topic", "text"),
        ("license", "text"),
        ("owner__login", "text"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    assert_eq!(cols, want);
    assert_eq!(
        s.rows("SELECT id, name, stars, topic, license, owner__login FROM tap.repos ORDER BY id"),
        json!([
            {"id": 1, "name": "one", "stars": 10, "topic": "a", "license": null, "owner__login": null},
            {"id": 2, "name": "two again", "stars": null, "topic": "7", "license": "MIT", "owner__login": "ann"},
            {"id": 3, "name": "three", "stars": null, "topic": "8", "license": null, "owner__login": "bob"},
        ])
    );
    let changed = stderr_lines_with(&out, "column type changed");
    assert!(
        changed.len() == 1
            && changed[0].contains("was=text")
            && changed[0].contains(r#"now="bigint""#),
        "{changed:?}"
    );
}

#[test]
fn activate_version_soft_and_hard() {
    let s = setup();
    let out = run_ok(&mut s.cmd(), fixture("activate_version.singer"));
    assert_eq!(stdout_json(&out), [json!({"sync": 1}), json!({"sync": 2})]);
    assert_eq!(
        s.rows("SELECT id, name, _sdc_table_version AS v, _sdc_deleted_at IS NOT NULL AS deleted FROM tap.teams ORDER BY id"),
        json!([
            {"id": 1, "name": "core", "v": 1, "deleted": true},
            {"id": 2, "name": "docs v2", "v": 2, "deleted": false},
            {"id": 3, "name": "ops", "v": 1, "deleted": true},
            {"id": 4, "name": "infra", "v": 2, "deleted": false},
        ])
    );
    assert!(
        stderr(&out).contains("  teams: 4 inserted, 1 updated, 0 rejected, 2 deactivated\n"),
        "{}",
        stderr(&out)
    );

    let s = setup_with(json!({"hard_delete": true}));
    run_ok(&mut s.cmd(), fixture("activate_version.singer"));
    assert_eq!(
        s.column("SELECT id FROM tap.teams ORDER BY id"),
        [json!(2), json!(4)]
    );
}

/// Stream and property names with quotes, spaces, SQL and unicode become safe identifiers.
#[test]
fn hostile_stream_and_property_names() {
    let s = setup();
    let out = run_ok(&mut s.cmd(), fixture("hostile_names.singer"));
    assert_eq!(stdout_json(&out), [json!({"done": true})]);
    assert_eq!(
        s.tables(),
        ["_n_c_d_", "a_b", "user_events", "x_drop_table_y_", "y"]
    );
    assert_eq!(
        s.rows(r#"SELECT id, we_ird, sp_ace, _drop_table_y_ FROM tap.x_drop_table_y_"#),
        json!([{"id": 1, "we_ird": "q\"uote", "sp_ace": "s p", "_drop_table_y_": "'); DROP TABLE y; --"}])
    );
}

/// Identifiers longer than 63 bytes are shortened by the documented rule, without collisions.
#[test]
fn long_identifiers_are_shortened_apart() {
    let long = "a_rather_long_stream_name_that_goes_on_and_on_past_the_limit";
    let p1 = format!("{}_first", "x".repeat(60));
    let p2 = format!("{}_second", "x".repeat(60));
    let input = lines(&[
        schema(
            &format!("{long}_one"),
            json!({"id": {"type": "integer"}, (p1.clone()): {"type": "string"}, (p2.clone()): {"type": "string"}}),
            &["id"],
        ),
        schema(
            &format!("{long}_two"),
            json!({"id": {"type": "integer"}}),
            &["id"],
        ),
        record(
            &format!("{long}_one"),
            json!({"id": 1, (p1.clone()): "one", (p2.clone()): "two"}),
        ),
        record(
            &format!("{long}_one"),
            json!({"id": 1, (p1.clone()): "one again", (p2.clone()): "two"}),
        ),
        record(&format!("{long}_two"), json!({"id": 2})),
        state(json!(1)),
    ]);
    let st = setup();
    run_ok(&mut st.cmd(), input.clone());
    let tables = st.tables();
    assert_eq!(tables.len(), 2, "{tables:?}");
    let fit = |n: &str| target_core::names::fit(n, 63);
    let one = fit(&format!("{long}_one"));
    assert!(
        tables.contains(&one) && tables.contains(&fit(&format!("{long}_two"))),
        "{tables:?}"
    );
    assert_ne!(fit(&p1), fit(&p2));
    assert_eq!(fit(&p1).len(), 63);
    let row = st.rows(&format!("SELECT * FROM tap.\"{one}\""));
    assert_eq!(row[0][fit(&p1)], json!("one again"));
    assert_eq!(row[0][fit(&p2)], json!("two"));
    // A second run finds the same (shortened) table and key.
    let out = run_ok(&mut st.cmd(), input);
    assert!(
        stderr(&out).contains(" 0 inserted, 2 updated"),
        "{}",
        stderr(&out)
    );
}

/// `\u0000`, which text and jsonb refuse, becomes U+FFFD, with one warning per column.
#[test]
fn nul_characters_become_the_replacement_character() {
    let input = lines(&[
        schema(
            "s",
            json!({"id": {"type": "integer"}, "t": {"type": "string"}, "j": {"type": "object"}}),
            &["id"],
        ),
        record(
            "s",
            json!({"id": 1, "t": "a\u{0}b", "j": {"k\u{0}": "v\u{0}", "ok": "\\u0000"}}),
        ),
        record("s", json!({"id": 2, "t": "c\u{0}"})),
        state(json!(1)),
    ]);
    let s = setup();
    let out = run_ok(&mut s.cmd(), input);
    assert_eq!(
        s.rows("SELECT id, t, j FROM tap.s ORDER BY id"),
        json!([
            {"id": 1, "t": "a\u{FFFD}b", "j": {"k\u{FFFD}": "v\u{FFFD}", "ok": "\\u0000"}},
            {"id": 2, "t": "c\u{FFFD}", "j": null},
        ])
    );
    assert_eq!(
        stderr_lines_with(&out, "U+FFFD").len(),
        2,
        "{}",
        stderr(&out)
    );
}

/// Values a column cannot hold (validation off) are invalid records, not a failed batch.
#[test]
fn values_a_column_cannot_hold_are_invalid_records() {
    let input = lines(&[
        schema(
            "s",
            json!({"id": {"type": "integer"}, "n": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "b": {"type": "boolean"}}),
            &["id"],
        ),
        record("s", json!({"id": 1, "n": 2.0, "at": "2024-01-01 10:00:00"})),
        record("s", json!({"id": 2, "n": "many"})),
        record("s", json!({"id": 3, "at": "yesterday"})),
        record("s", json!({"id": 4, "b": "yes"})),
        state(json!(1)),
    ]);
    let s = setup_with(json!({"validate_records": false, "on_invalid_record": "reject"}));
    run_ok(&mut s.cmd(), input);
    assert_eq!(
        s.rows("SELECT id, n, to_char(at, 'HH24:MI') AS at FROM tap.s ORDER BY id"),
        json!([{"id": 1, "n": 2, "at": "10:00"}])
    );
    assert_eq!(
        s.column("SELECT error FROM tap._sdc_rejected_records ORDER BY line"),
        [
            json!("column `n`: \"many\" is not an integer"),
            json!("column `at`: \"yesterday\" is not an RFC 3339 date-time"),
            json!("column `b`: \"yes\" is not a boolean"),
        ]
    );
}
