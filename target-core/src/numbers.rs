//! Numbers no double or 64-bit integer holds exactly ("wide" numbers), found in a line's text
//! before it is parsed, so that no value is rounded silently.
//!
//! The rule: an integer literal is exact when it fits `i64` or `u64`; a literal with a fraction
//! or an exponent is exact when the nearest double prints back as the same decimal (any literal
//! of up to 15 significant digits in the double range does). Any other number is wide: the
//! parser sees a stand-in (the nearest finite double, so validation judges types and ranges
//! about right), and the exact text travels beside the record to the database, which stores it
//! exactly or refuses the record (see each target's README section). serde_json's
//! `arbitrary_precision` would do this too, but it changes `Value` for every crate of the
//! workspace (features unify), so the targets find wide numbers themselves.

use std::fmt::Write as _;
use std::ops::Range;

use serde_json::Value;

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A wide number: where it is and its exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wide {
    /// Path from the document's root (or, after [`relative_to`], from a member's value).
    pub path: Vec<Seg>,
    /// The number exactly as written.
    pub text: String,
}

/// A line with its wide numbers replaced by stand-ins, and the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewritten {
    /// The line to parse.
    pub line: String,
    /// The wide numbers, in document order.
    pub wide: Vec<Wide>,
}

enum Frame {
    Object { key: Range<usize>, expect_key: bool },
    Array { index: usize },
}

/// Scans a line of JSON; `None` when every number in it is exact (the common case).
/// Malformed JSON is left for the parser to report.
pub fn scan(line: &str) -> Option<Rewritten> {
    let b = line.as_bytes();
    let mut frames: Vec<Frame> = Vec::new();
    let mut found: Vec<(Range<usize>, Vec<Seg>)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let end = string_end(b, i + 1);
                if let Some(Frame::Object { key, expect_key }) = frames.last_mut()
                    && *expect_key
                {
                    *key = i + 1..end;
                    *expect_key = false;
                }
                i = end + 1;
            }
            b'{' => {
                frames.push(Frame::Object {
                    key: 0..0,
                    expect_key: true,
                });
                i += 1;
            }
            b'[' => {
                frames.push(Frame::Array { index: 0 });
                i += 1;
            }
            b'}' | b']' => {
                frames.pop();
                i += 1;
            }
            b',' => {
                match frames.last_mut() {
                    Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                    Some(Frame::Array { index }) => *index += 1,
                    None => {}
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                if !is_exact(&line[start..i]) {
                    found.push((start..i, path_of(&frames, line)));
                }
            }
            _ => i += 1,
        }
    }
    if found.is_empty() {
        return None;
    }
    let mut rewritten = String::with_capacity(line.len() + 16 * found.len());
    let mut wide = Vec::with_capacity(found.len());
    let mut at = 0;
    for (range, path) in found {
        rewritten.push_str(&line[at..range.start]);
        let text = &line[range.clone()];
        rewritten.push_str(&stand_in(text));
        at = range.end;
        wide.push(Wide {
            path,
            text: text.to_string(),
        });
    }
    rewritten.push_str(&line[at..]);
    Some(Rewritten {
        line: rewritten,
        wide,
    })
}

/// The wide numbers under top-level member `member`, with paths relative to its value.
pub fn relative_to(wide: Vec<Wide>, member: &str) -> Vec<Wide> {
    wide.into_iter()
        .filter_map(|mut w| match w.path.first() {
            Some(Seg::Key(k)) if k == member => {
                w.path.remove(0);
                Some(w)
            }
            _ => None,
        })
        .collect()
}

/// Index of the closing quote of a string whose contents start at `from` (or the end).
fn string_end(b: &[u8], mut from: usize) -> usize {
    while from < b.len() {
        match memchr::memchr2(b'"', b'\\', &b[from..]) {
            Some(p) if b[from + p] == b'"' => return from + p,
            Some(p) => from += p + 2,
            None => return b.len(),
        }
    }
    b.len()
}

fn path_of(frames: &[Frame], line: &str) -> Vec<Seg> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Object { key, .. } => {
                let raw = &line[key.clone()];
                let key = if raw.contains('\\') {
                    serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string())
                } else {
                    raw.to_string()
                };
                Seg::Key(key)
            }
            Frame::Array { index } => Seg::Index(*index),
        })
        .collect()
}

/// A decimal as significant digits and a power of ten: value = ±digits × 10^exp.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exp: i64,
}

impl Decimal {
    /// Parses a JSON number literal; `None` when it is not one.
    fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (mantissa, None),
        };
        let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        if !digits_only(int) || (int.len() > 1 && int.starts_with('0')) {
            return None;
        }
        if frac.is_some_and(|f| !digits_only(f)) {
            return None;
        }
        let mut exp10: i64 = match exp {
            None => 0,
            Some(e) => {
                let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
                if !digits_only(unsigned) {
                    return None;
                }
                let magnitude = unsigned.bytes().fold(0i64, |n, c| {
                    n.saturating_mul(10).saturating_add(i64::from(c - b'0'))
                });
                if e.starts_with('-') {
                    -magnitude
                } else {
                    magnitude
                }
            }
        };
        let frac = frac.unwrap_or("");
        exp10 = exp10.saturating_sub(i64::try_from(frac.len()).unwrap_or(i64::MAX));
        let mut digits: String = int.chars().chain(frac.chars()).collect();
        let trailing = digits.len() - digits.trim_end_matches('0').len();
        digits.truncate(digits.len() - trailing);
        exp10 = exp10.saturating_add(i64::try_from(trailing).unwrap_or(0));
        let digits = digits.trim_start_matches('0').to_string();
        if digits.is_empty() {
            return Some(Self {
                negative: false,
                digits,
                exp: 0,
            });
        }
        Some(Self {
            negative,
            digits,
            exp: exp10,
        })
    }
}

/// Whether `text` is a JSON number literal.
pub fn is_literal(text: &str) -> bool {
    Decimal::parse(text).is_some()
}

/// The power of ten of a literal's leading digit (`12.5` → 1, `0.03` → -2; 0 → 0), `None` when
/// `text` is not a JSON number literal. Databases with a range for exact decimals check it.
pub fn magnitude(text: &str) -> Option<i64> {
    let d = Decimal::parse(text)?;
    let digits = i64::try_from(d.digits.len()).unwrap_or(i64::MAX);
    Some(if d.digits.is_empty() {
        0
    } else {
        d.exp.saturating_add(digits - 1)
    })
}

/// Whether a number literal is held exactly by `i64`, `u64` or the nearest double. Text that
/// is not a JSON number counts as exact, for the parser to report.
pub fn is_exact(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if unsigned.bytes().all(|c| c.is_ascii_digit()) {
        // Integer literals: up to 18 digits always fit.
        if unsigned.len() <= 18 || text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() {
            return true;
        }
        return Decimal::parse(text).is_none();
    }
    let Some(decimal) = Decimal::parse(text) else {
        return true;
    };
    if decimal.digits.is_empty() {
        return true;
    }
    let digits = i64::try_from(decimal.digits.len()).unwrap_or(i64::MAX);
    let magnitude = decimal.exp.saturating_add(digits - 1);
    if digits <= 15 && (-300..=300).contains(&magnitude) {
        return true;
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f != 0.0 => Decimal::parse(&format!("{f:e}")) == Some(decimal),
        _ => false,
    }
}

/// The nearest finite double to a wide literal, as JSON text.
fn stand_in(text: &str) -> String {
    let negative = text.starts_with('-');
    let f = text.parse::<f64>().unwrap_or(0.0);
    let f = if f.is_infinite() {
        f64::MAX.copysign(f)
    } else if f == 0.0 {
        // A non-zero number too small for a double: the smallest normal one keeps it non-zero.
        if negative {
            -f64::MIN_POSITIVE
        } else {
            f64::MIN_POSITIVE
        }
    } else {
        f
    };
    format!("{f:e}")
}

/// The wide number at `path`, if any.
pub fn find<'w>(wide: &'w [Wide], path: &[Seg]) -> Option<&'w str> {
    wide.iter()
        .find(|w| w.path == path)
        .map(|w| w.text.as_str())
}

/// Compact JSON text of `value` with each wide number (paths relative to `value`) written
/// exactly, as given.
pub fn to_exact_json(value: &Value, wide: &[Wide]) -> String {
    if wide.is_empty() {
        return value.to_string();
    }
    let mut out = String::new();
    let mut path = Vec::new();
    write_exact(value, wide, &mut path, &mut out);
    out
}

fn write_exact(value: &Value, wide: &[Wide], path: &mut Vec<Seg>, out: &mut String) {
    match value {
        Value::Number(n) => match find(wide, path) {
            Some(text) => out.push_str(text),
            None => {
                let _ = write!(out, "{n}");
            }
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push(Seg::Index(i));
                write_exact(item, wide, path, out);
                path.pop();
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                path.push(Seg::Key(k.clone()));
                write_exact(v, wide, path, out);
                path.pop();
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wide_literals() {
        for exact in [
            "0",
            "-0",
            "1",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "0.1",
            "1.5e3",
            "123456789012345",
            "0.30000000000000004",
            "1e22",
            "1.7976931348623157e308",
            "5e-324",
            "-2.5E-3",
            "1.0",
            "100.000",
        ] {
            assert!(is_exact(exact), "{exact} should be exact");
        }
        for wide in [
            "18446744073709551616",
            "12345678901234567890123",
            "-9223372036854775809",
            "1e400",
            "-1e400",
            "1e-400",
            "1.00000000000000000001",
            "0.12345678901234567890",
            "123456789012345678.5",
        ] {
            assert!(!is_exact(wide), "{wide} should be wide");
        }
        // Not numbers at all: left to the parser.
        for bad in ["01", "1.", ".5", "1e", "--1", "0123456789012345678901234"] {
            assert!(is_exact(bad), "{bad}");
        }
    }

    #[test]
    fn scan_finds_paths_and_rewrites() {
        let line = r#"{"type":"RECORD","stream":"s","record":{"a":1,"big":12345678901234567890123,"arr":[1,1e400,{"k\"q":-1e-400}],"s":"1e400, \"99999999999999999999999\""}}"#;
        let out = scan(line).expect("wide numbers");
        let key = |k: &str| Seg::Key(k.to_string());
        assert_eq!(
            out.wide,
            [
                Wide {
                    path: vec![key("record"), key("big")],
                    text: "12345678901234567890123".into()
                },
                Wide {
                    path: vec![key("record"), key("arr"), Seg::Index(1)],
                    text: "1e400".into()
                },
                Wide {
                    path: vec![key("record"), key("arr"), Seg::Index(2), key("k\"q")],
                    text: "-1e-400".into()
                },
            ]
        );
        let value: Value = serde_json::from_str(&out.line).expect("parses");
        assert_eq!(value["record"]["big"].as_f64(), Some(1.2345678901234568e22));
        assert_eq!(value["record"]["arr"][1].as_f64(), Some(f64::MAX));
        assert_eq!(
            value["record"]["s"],
            Value::String("1e400, \"99999999999999999999999\"".into())
        );
        let record = relative_to(out.wide, "record");
        assert_eq!(
            to_exact_json(&value["record"], &record),
            r#"{"a":1,"arr":[1,1e400,{"k\"q":-1e-400}],"big":12345678901234567890123,"s":"1e400, \"99999999999999999999999\""}"#
        );
        assert_eq!(scan(r#"{"a":[1,2.5,"x"],"b":-3e2}"#), None);
    }
}
