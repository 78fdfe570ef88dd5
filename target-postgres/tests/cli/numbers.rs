//! No silent rounding: `numeric` columns and `jsonb` keep every JSON number exactly (wide ones
//! too), a STATE is echoed exactly, and an integer outside `bigint` is an invalid record.

use serde_json::json;

use crate::support::*;

const SCHEMA: &str = r#"{"type": "SCHEMA", "stream": "n", "key_properties": ["id"], "schema": {"properties": {"id": {"type": "integer"}, "i": {"type": ["null", "integer"]}, "x": {"type": ["null", "number"]}, "raw": {}}}}"#;

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
fn numeric_and_jsonb_keep_numbers_exactly() {
    let s = setup();
    let out = run_ok(
        &mut s.cmd(),
        input(&[
            r#"{"id": 1, "i": 9223372036854775807, "x": 12345678901234567890123, "raw": [1e400, 0.1]}"#,
            r#"{"id": 2, "i": -9223372036854775808, "x": 1e400, "raw": {"v": 18446744073709551616}}"#,
            r#"{"id": 3, "x": 0.30000000000000004}"#,
            r#"{"id": 4, "x": 1.00000000000000000001}"#,
        ]),
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"big\":12345678901234567890123}\n"
    );
    assert_eq!(
        s.rows("SELECT id, i::text, x::text, raw::text FROM tap.n ORDER BY id"),
        json!([
            // jsonb keeps numbers as numeric: 1e400 prints in full, exactly.
            {"id": 1, "i": "9223372036854775807", "x": "12345678901234567890123", "raw": format!("[1{}, 0.1]", "0".repeat(400))},
            {"id": 2, "i": "-9223372036854775808", "x": format!("1{}", "0".repeat(400)), "raw": "{\"v\": 18446744073709551616}"},
            {"id": 3, "i": null, "x": "0.30000000000000004", "raw": null},
            {"id": 4, "i": null, "x": "1.00000000000000000001", "raw": null},
        ])
    );
}

#[test]
fn integers_beyond_bigint_are_invalid() {
    let s = setup();
    let out = run(
        &mut s.cmd(),
        input(&[r#"{"id": 0}"#, r#"{"id": 1, "i": 18446744073709551615}"#]),
    );
    assert_error_starting(
        &out,
        "line 3: stream `n`: column `i`: integer 18446744073709551615 does not fit bigint",
    );
    let s = setup_with(json!({"on_invalid_record": "reject"}));
    run_ok(
        &mut s.cmd(),
        input(&[r#"{"id": 0}"#, r#"{"id": 1, "i": 12345678901234567890123}"#]),
    );
    assert_eq!(s.column("SELECT id FROM tap.n"), [json!(0)]);
    assert_eq!(
        s.rows("SELECT error, record FROM tap._sdc_rejected_records"),
        json!([{"error": "column `i`: integer 12345678901234567890123 does not fit bigint",
                "record": "{\"i\":12345678901234567890123,\"id\":1}"}])
    );
}
