//! No silent rounding: numbers a 64-bit integer or a double cannot hold are kept exactly where
//! a column can (TEXT and JSON columns), and otherwise make the record invalid, so the
//! invalid-record policy decides (fail, or keep it exactly in `_sdc_rejected_records`).

use serde_json::json;

use crate::support::*;

const SCHEMA: &str = r#"{"type": "SCHEMA", "stream": "n", "key_properties": ["id"], "schema": {"properties": {"id": {"type": "integer"}, "i": {"type": ["null", "integer"]}, "x": {"type": ["null", "number"]}, "label": {"type": ["null", "string"]}, "raw": {}}}}"#;

fn input(records: &[&str]) -> String {
    let mut all = vec![SCHEMA.to_string()];
    all.extend(
        records
            .iter()
            .map(|r| format!(r#"{{"type": "RECORD", "stream": "n", "record": {r}}}"#)),
    );
    all.push(r#"{"type": "STATE", "value": {"big": 12345678901234567890123}}"#.to_string());
    lines(&all)
}

#[test]
fn exact_numbers_load_as_numbers() {
    let (dir, mut cmd) = setup();
    let out = run_ok(
        &mut cmd,
        input(&[
            r#"{"id": 1, "i": 9223372036854775807, "x": 0.30000000000000004, "raw": [1e400, 18446744073709551616]}"#,
            r#"{"id": 2, "i": -9223372036854775808, "x": 1.5e300, "raw": {"v": 12345678901234567890123}}"#,
        ]),
    );
    // The STATE is echoed exactly, wide number and all.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"big\":12345678901234567890123}\n"
    );
    assert_eq!(
        rows(
            &db_path(&dir),
            "SELECT id, i, typeof(i), x, raw FROM n ORDER BY id"
        ),
        json!([
            [
                1,
                9223372036854775807_i64,
                "integer",
                0.30000000000000004,
                "[1e400,18446744073709551616]"
            ],
            [
                2,
                -9223372036854775808_i64,
                "integer",
                1.5e300,
                r#"{"v":12345678901234567890123}"#
            ],
        ])
    );
}

#[test]
fn wide_numbers_in_number_columns_are_invalid() {
    for (record, problem) in [
        (
            r#"{"id": 1, "i": 18446744073709551615}"#,
            "column `i`: integer 18446744073709551615 does not fit a 64-bit signed integer",
        ),
        (
            r#"{"id": 1, "i": 12345678901234567890123}"#,
            "column `i`: number 12345678901234567890123 does not fit a 64-bit integer or a double exactly",
        ),
        (
            r#"{"id": 1, "x": 1e400}"#,
            "column `x`: number 1e400 does not fit a 64-bit integer or a double exactly",
        ),
        (
            r#"{"id": 1, "x": 9007199254740993}"#,
            "column `x`: integer 9007199254740993 does not fit a double (REAL) exactly",
        ),
    ] {
        let (dir, mut cmd) = setup();
        let out = run(&mut cmd, input(&[r#"{"id": 0}"#, record]));
        assert_error(&out, &format!("line 3: stream `n`: {problem}"));
        assert!(out.stdout.is_empty());
        assert!(tables(&db_path(&dir)).is_empty());

        // Rejected instead: the record is kept exactly as written.
        let (dir, mut cmd) = setup_with(json!({"on_invalid_record": "reject"}));
        run_ok(&mut cmd, input(&[r#"{"id": 0}"#, record]));
        let db = db_path(&dir);
        assert_eq!(rows(&db, "SELECT id FROM n"), json!([[0]]));
        let got = rows(&db, "SELECT line, error, record FROM _sdc_rejected_records");
        assert_eq!(got[0][0], json!(3));
        assert_eq!(got[0][1], json!(problem));
        let stored = got[0][2].as_str().unwrap();
        assert!(
            stored.contains(&record[record.rfind(':').unwrap() + 2..record.len() - 1]),
            "{stored} keeps {record} exactly"
        );
    }
}

/// Text columns keep a wide number's exact text when validation is off.
#[test]
fn wide_numbers_in_text_columns_are_kept_without_validation() {
    let (dir, mut cmd) = setup_with(json!({"validate_records": false}));
    run_ok(
        &mut cmd,
        input(&[r#"{"id": 1, "label": 12345678901234567890123}"#]),
    );
    assert_eq!(
        rows(&db_path(&dir), "SELECT label, typeof(label) FROM n"),
        json!([["12345678901234567890123", "text"]])
    );
}
