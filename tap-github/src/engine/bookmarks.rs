//! Bookmark arithmetic: where an incremental request starts, how replication-key values
//! compare, and the partition entries written to the state.

use std::cmp::Ordering;
use std::time::Duration;

use serde_json::{Map, Value};
use singer::Partition;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// State key under which a partition keeps the ETag of its first request.
pub const ETAG: &str = "etag";

/// The value of the `since`-like parameter: the bookmark (else the start date) minus the
/// lookback, formatted as RFC 3339 UTC with `Z`.
pub fn since(
    bookmark: Option<&str>,
    start_date: Option<&str>,
    lookback: Duration,
) -> Option<String> {
    let from = bookmark.or(start_date)?;
    if lookback.is_zero() {
        return Some(from.to_owned());
    }
    match OffsetDateTime::parse(from, &Rfc3339) {
        Ok(t) => Some(format_utc(t - lookback)),
        Err(_) => Some(from.to_owned()),
    }
}

/// RFC 3339 in UTC with a `Z` and whole seconds, as REST APIs commonly write timestamps.
pub fn format_utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Normalises an RFC 3339 date to [`format_utc`]'s form (errors name the problem).
pub fn normalise_date(text: &str) -> Result<String, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(format_utc)
        .map_err(|e| format!("`{text}` is not an RFC 3339 date-time: {e}"))
}

/// Compares two replication-key values: as instants when both are RFC 3339, else as numbers,
/// else as strings.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) => match (
            OffsetDateTime::parse(x, &Rfc3339),
            OffsetDateTime::parse(y, &Rfc3339),
        ) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            _ => x.cmp(y),
        },
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// The greater of two optional values.
pub fn max(a: Option<Value>, b: Option<&Value>) -> Option<Value> {
    match (a, b) {
        (Some(a), Some(b)) if compare(b, &a) == Ordering::Greater => Some(b.clone()),
        (Some(a), _) => Some(a),
        (None, b) => b.cloned(),
    }
}

/// A partition entry for the state.
pub fn partition(
    context: &Map<String, Value>,
    key: Option<String>,
    value: Option<Value>,
    etag: Option<&str>,
) -> Partition {
    let mut extra = Map::new();
    if let Some(e) = etag {
        extra.insert(ETAG.to_owned(), Value::String(e.to_owned()));
    }
    Partition {
        context: context.clone(),
        replication_key: key,
        replication_key_value: value,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn since_subtracts_the_lookback() {
        assert_eq!(
            since(
                Some("2024-03-01T00:00:00Z"),
                None,
                Duration::from_secs(3600)
            )
            .as_deref(),
            Some("2024-02-29T23:00:00Z")
        );
        assert_eq!(
            since(None, Some("2024-01-01T00:00:00Z"), Duration::ZERO).as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(since(None, None, Duration::ZERO), None);
    }

    #[test]
    fn compares_instants_not_text() {
        assert_eq!(
            compare(
                &json!("2024-01-01T01:00:00+01:00"),
                &json!("2024-01-01T00:00:00Z")
            ),
            Ordering::Equal
        );
        assert_eq!(
            compare(
                &json!("2024-01-02T00:00:00Z"),
                &json!("2024-01-01T00:00:00Z")
            ),
            Ordering::Greater
        );
        assert_eq!(compare(&json!(2), &json!(10)), Ordering::Less);
        assert_eq!(
            max(
                Some(json!("2024-01-01T00:00:00Z")),
                Some(&json!("2023-01-01T00:00:00Z"))
            ),
            Some(json!("2024-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn normalises_offsets_to_utc() {
        assert_eq!(
            normalise_date("2024-01-01T02:00:00+02:00").as_deref(),
            Ok("2024-01-01T00:00:00Z")
        );
        assert!(normalise_date("yesterday").is_err());
    }
}
