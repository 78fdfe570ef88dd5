//! Cells → one line of `COPY … FROM STDIN` text, checking each value against its column type
//! first, so a value PostgreSQL would refuse becomes an invalid record instead of a failed batch.
//!
//! Rules: `bigint` takes integers of the signed 64-bit range (a double with no fraction, such as
//! `3.0`, counts); `numeric` takes every JSON number exactly (also wide ones; magnitudes beyond
//! ±100,000 digits are refused); `timestamptz` takes RFC 3339 date-times, and ones without an
//! offset (read as UTC), with a space for `T`, and plain dates; `\u0000`, which neither `text` nor `jsonb`
//! accepts, becomes U+FFFD (`�`) in strings and object keys.

use serde_json::Value;
use target_core::{Cell, Kind, numbers};

/// What replaces `\u0000` in text and JSON.
pub const NUL_REPLACEMENT: char = '\u{FFFD}';

/// Largest decimal magnitude accepted for `numeric` (PostgreSQL allows 131072 digits before
/// the point and 16383 after it).
const NUMERIC_MAGNITUDE: i64 = 16_000;

/// 2^63 as a double.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// A value the column cannot hold.
pub type Refusal = String;

/// Appends one cell in COPY text form; returns whether a `\u0000` was replaced.
pub fn push_cell(out: &mut Vec<u8>, cell: &Cell<'_>) -> Result<bool, Refusal> {
    match cell {
        Cell::Null => out.extend_from_slice(b"\\N"),
        Cell::Int(i) => push_display(out, i),
        Cell::Text(s, Kind::Timestamp) => {
            check_timestamp(s)?;
            return Ok(push_text(out, s));
        }
        Cell::Text(s, _) => return Ok(push_text(out, s)),
        Cell::Json(s) => return Ok(push_json_text(out, s)),
        Cell::Exact(s, kind) => push_exact(out, s, *kind)?,
        Cell::Value(v, kind) => return push_value(out, v, *kind),
    }
    Ok(false)
}

fn push_display(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{v}");
}

fn push_exact(out: &mut Vec<u8>, s: &str, kind: Kind) -> Result<(), Refusal> {
    match kind {
        Kind::Integer => Err(format!("integer {s} does not fit bigint")),
        Kind::Boolean => Err(format!("{s} is not a boolean")),
        Kind::Timestamp => Err(format!("{s} is not a date-time")),
        Kind::Number | Kind::Json => {
            check_numeric(s)?;
            out.extend_from_slice(s.as_bytes());
            Ok(())
        }
        Kind::Text => {
            out.extend_from_slice(s.as_bytes());
            Ok(())
        }
    }
}

fn check_numeric(s: &str) -> Result<(), Refusal> {
    match numbers::magnitude(s) {
        Some(m) if m.abs() <= NUMERIC_MAGNITUDE => Ok(()),
        Some(_) => Err(format!("number {s} is beyond numeric's range")),
        None => Err(format!("{s} is not a number")),
    }
}

fn push_value(out: &mut Vec<u8>, v: &Value, kind: Kind) -> Result<bool, Refusal> {
    match (kind, v) {
        (_, Value::Null) => out.extend_from_slice(b"\\N"),
        (Kind::Json, _) => return Ok(push_json(out, v)),
        (Kind::Integer, Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => push_display(out, i),
            // 2^63 is exactly representable; i64 holds [-2^63, 2^63).
            (None, Some(f))
                if !n.is_u64() && f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f) =>
            {
                #[allow(clippy::cast_possible_truncation)]
                push_display(out, f as i64)
            }
            _ if n.is_u64() => return Err(format!("integer {n} does not fit bigint")),
            _ => return Err(format!("{n} is not an integer")),
        },
        (Kind::Integer, Value::String(s)) if s.parse::<i64>().is_ok() => {
            out.extend_from_slice(s.as_bytes())
        }
        (Kind::Number, Value::Number(n)) => push_display(out, n),
        (Kind::Number, Value::String(s)) if numbers::is_literal(s) => {
            check_numeric(s)?;
            out.extend_from_slice(s.as_bytes());
        }
        (Kind::Boolean, Value::Bool(b)) => out.push(if *b { b't' } else { b'f' }),
        (Kind::Timestamp, Value::String(s)) => {
            check_timestamp(s)?;
            return Ok(push_text(out, s));
        }
        (Kind::Text, Value::String(s)) => return Ok(push_text(out, s)),
        // Text keeps any other value as its JSON text, as given.
        (Kind::Text, _) => return Ok(push_json(out, v)),
        (Kind::Integer, _) => return Err(format!("{v} is not an integer")),
        (Kind::Number, _) => return Err(format!("{v} is not a number")),
        (Kind::Boolean, _) => return Err(format!("{v} is not a boolean")),
        (Kind::Timestamp, _) => return Err(format!("{v} is not a date-time")),
    }
    Ok(false)
}

/// Appends text with COPY's escapes, `\u0000` replaced; returns whether one was.
pub fn push_text(out: &mut Vec<u8>, s: &str) -> bool {
    let b = s.as_bytes();
    // Most values need no escape: two vectorised scans beat one byte-by-byte loop.
    if memchr::memchr3(b'\\', b'\n', b'\t', b).is_none() && memchr::memchr2(b'\r', 0, b).is_none() {
        out.extend_from_slice(b);
        return false;
    }
    let mut start = 0;
    let mut replaced = false;
    for (i, &c) in b.iter().enumerate() {
        let escape: &[u8] = match c {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0 => {
                replaced = true;
                "\u{FFFD}".as_bytes()
            }
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    replaced
}

fn push_json(out: &mut Vec<u8>, v: &Value) -> bool {
    push_json_text(out, &v.to_string())
}

/// Appends JSON text for a `jsonb` column. serde_json writes NUL as `\u0000`, which `jsonb`
/// refuses: such text is rewritten with U+FFFD in its place.
fn push_json_text(out: &mut Vec<u8>, json: &str) -> bool {
    if !json.contains("\\u0000") {
        push_text(out, json);
        return false;
    }
    match serde_json::from_str::<Value>(json) {
        Ok(mut value) => {
            replace_nul(&mut value);
            push_text(out, &value.to_string());
        }
        // Not JSON we wrote ourselves (exact text of wide numbers): replace the escape as text.
        Err(_) => {
            push_text(out, &json.replace("\\u0000", "\u{FFFD}"));
        }
    }
    true
}

fn replace_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{FFFD}"),
        Value::Array(items) => items.iter_mut().for_each(replace_nul),
        Value::Object(fields) => {
            let old = std::mem::take(fields);
            for (k, mut v) in old {
                replace_nul(&mut v);
                fields.insert(k.replace('\0', "\u{FFFD}"), v);
            }
        }
        _ => {}
    }
}

/// Accepts RFC 3339 date-times, the same without an offset (UTC) or with a space for `T`, and
/// plain dates (midnight UTC).
fn check_timestamp(s: &str) -> Result<(), Refusal> {
    use time::format_description::well_known::Rfc3339;
    let ok = |t: &str| time::OffsetDateTime::parse(t, &Rfc3339).is_ok();
    if ok(s) {
        return Ok(());
    }
    let t = if s.len() > 10 && s.as_bytes()[10] == b' ' {
        format!("{}T{}", &s[..10], &s[11..])
    } else {
        s.to_string()
    };
    if ok(&t) || ok(&format!("{t}Z")) || (t.len() == 10 && ok(&format!("{t}T00:00:00Z"))) {
        return Ok(());
    }
    Err(format!("{s:?} is not an RFC 3339 date-time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(cell: Cell<'_>) -> Result<String, Refusal> {
        let mut out = Vec::new();
        push_cell(&mut out, &cell)?;
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    #[test]
    fn values_by_kind() {
        let v = json!({"a": "x\ty\n\\", "n": 1.5});
        assert_eq!(
            text(Cell::Value(&v, Kind::Json)).unwrap(),
            r#"{"a":"x\\ty\\n\\\\","n":1.5}"#
        );
        assert_eq!(text(Cell::Value(&json!(3.0), Kind::Integer)).unwrap(), "3");
        assert!(text(Cell::Value(&json!(3.5), Kind::Integer)).is_err());
        assert_eq!(
            text(Cell::Value(&json!(18446744073709551615_u64), Kind::Integer)),
            Err("integer 18446744073709551615 does not fit bigint".to_string())
        );
        assert_eq!(
            text(Cell::Value(&json!(18446744073709551615_u64), Kind::Number)).unwrap(),
            "18446744073709551615"
        );
        assert_eq!(
            text(Cell::Exact("12345678901234567890123.5", Kind::Number)).unwrap(),
            "12345678901234567890123.5"
        );
        assert!(text(Cell::Exact("1e99999", Kind::Number)).is_err());
        assert_eq!(text(Cell::Value(&json!(true), Kind::Boolean)).unwrap(), "t");
        assert_eq!(text(Cell::Value(&json!(7), Kind::Text)).unwrap(), "7");
        assert_eq!(text(Cell::Null).unwrap(), "\\N");
    }

    #[test]
    fn timestamps() {
        for ok in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05.123456+02:00",
            "2024-01-02 03:04:05",
            "2024-01-02T03:04:05.5",
        ] {
            assert!(check_timestamp(ok).is_ok(), "{ok}");
        }
        assert!(check_timestamp("2024-01-02").is_ok());
        for bad in ["", "yesterday", "2024-13-01T00:00:00Z", "2024-01-32"] {
            assert!(check_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nul_becomes_the_replacement_character() {
        let mut out = Vec::new();
        assert!(push_text(&mut out, "a\0b"));
        assert_eq!(String::from_utf8(out).unwrap(), "a\u{FFFD}b");
        let v = json!({"k\u{0}": ["x\u{0}"]});
        assert_eq!(
            text(Cell::Value(&v, Kind::Json)).unwrap(),
            "{\"k\u{FFFD}\":[\"x\u{FFFD}\"]}"
        );
        // An escaped backslash before `u0000` is not a NUL.
        let v = json!({"k": "\\u0000"});
        assert_eq!(
            text(Cell::Value(&v, Kind::Json)).unwrap(),
            r#"{"k":"\\\\u0000"}"#
        );
    }
}
