//! Bookmark arithmetic: where an incremental request starts, how replication-key values
//! compare, and the partition entries written to the state.

use std::cmp::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use singer::Partition;

/// State key of a partition's ETag (of the request named by [`ETAG_URL`]).
pub const ETAG: &str = "etag";
/// State key of the request (path and query) the ETag was answered for.
pub const ETAG_URL: &str = "etag_url";
/// State key of the bookmarked head marker of a stream with exact increments.
pub const HEAD: &str = "head";
/// State key of the [`Window`] a partition's bookmark covers.
pub const WINDOW: &str = "window";

/// Where an incremental request starts: the bookmark minus the lookback, else the start date.
/// A date is written as RFC 3339 UTC with `Z`; a number or other text as it is.
pub fn since(
    bookmark: Option<&Value>,
    start_date: Option<&str>,
    lookback: Duration,
) -> Option<String> {
    let from = match bookmark {
        None => return start_date.map(str::to_owned),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Some(other.to_string()),
    };
    if lookback.is_zero() {
        return Some(from.to_owned());
    }
    let back = jiff::SignedDuration::try_from(lookback).unwrap_or(jiff::SignedDuration::MAX);
    match crate::time::parse(from).and_then(|t| t.checked_sub(back).ok()) {
        Some(t) => Some(crate::time::format_utc(t)),
        None => Some(from.to_owned()),
    }
}

/// What a partition's bookmark covers: the start date it began from (`None`: all history), the
/// request it was made for (path and query, without the replication parameter) and the
/// top-level fields that were not selected. A bookmark is reused only when it covers what a run
/// asks for; otherwise the partition is read again from the start date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The start date of the run that began this bookmark.
    #[serde(default)]
    pub start: Option<String>,
    /// Path and query of the stream's request.
    pub request: String,
    /// Top-level fields left out of the records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    /// The stream was read only to drive its children: its own records were not written.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unselected: bool,
    /// The child streams read for its records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

impl Window {
    /// Why this (stored) window does not cover `asked`, or `None` when it does.
    pub fn gap(&self, asked: &Window) -> Option<String> {
        if self.request != asked.request {
            return Some(format!(
                "it was made for {}, the stream now asks {}",
                self.request, asked.request
            ));
        }
        match (&self.start, &asked.start) {
            (Some(have), None) => {
                return Some(format!(
                    "it covers from {have}, the configuration asks for the whole history"
                ));
            }
            (Some(have), Some(want))
                if compare(&Value::from(want.as_str()), &Value::from(have.as_str()))
                    == Ordering::Less =>
            {
                return Some(format!(
                    "it covers from {have}, the start date is now {want}"
                ));
            }
            _ => {}
        }
        if self.unselected && !asked.unselected {
            return Some("the stream was not selected when it was written".into());
        }
        let new_children: Vec<&str> = asked
            .children
            .iter()
            .filter(|c| !self.children.contains(c))
            .map(String::as_str)
            .collect();
        if !new_children.is_empty() {
            return Some(format!(
                "child stream(s) {} were not read when it was written",
                new_children.join(", ")
            ));
        }
        let selected: Vec<&str> = self
            .dropped
            .iter()
            .filter(|f| !asked.dropped.contains(f))
            .map(String::as_str)
            .collect();
        (!selected.is_empty()).then(|| {
            format!(
                "newly selected field(s) {} are missing from what it covers",
                selected.join(", ")
            )
        })
    }

    /// The window to store after a run that resumed from this one (which covers `asked`): the
    /// earlier start, and every field either run left out.
    pub fn merged(&self, asked: &Window) -> Window {
        let mut dropped = self.dropped.clone();
        dropped.extend(asked.dropped.iter().cloned());
        dropped.sort();
        dropped.dedup();
        Window {
            start: self.start.clone(),
            request: asked.request.clone(),
            dropped,
            unselected: self.unselected && asked.unselected,
            children: asked.children.clone(),
        }
    }
}

/// A partition's stored bookmark, as the engine reads it back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prior {
    /// The replication-key value.
    pub value: Option<Value>,
    /// The ETag and the request it belongs to.
    pub etag: Option<(String, String)>,
    /// The head marker.
    pub head: Option<String>,
    /// What the bookmark covers (absent in states written before windows existed).
    pub window: Option<Window>,
}

impl Prior {
    /// Reads the engine's fields of a partition entry.
    pub fn of(p: &Partition) -> Prior {
        let text = |k: &str| p.extra.get(k).and_then(Value::as_str).map(str::to_owned);
        Prior {
            value: p.replication_key_value.clone(),
            etag: text(ETAG).zip(text(ETAG_URL)).map(|(e, u)| (u, e)),
            head: text(HEAD),
            window: p
                .extra
                .get(WINDOW)
                .and_then(|w| serde_json::from_value(w.clone()).ok()),
        }
    }

    /// The ETag to send with `request`, when it was answered for exactly that request.
    pub fn etag_for(&self, request: &str) -> Option<&str> {
        self.etag
            .as_ref()
            .filter(|(url, _)| url == request)
            .map(|(_, e)| e.as_str())
    }
}

/// What a partition leaves in the state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mark {
    /// The replication-key value: every record up to it is written.
    pub value: Option<Value>,
    /// An ETag and the request (path and query) it answers.
    pub etag: Option<(String, String)>,
    /// The head marker.
    pub head: Option<String>,
    /// What the bookmark covers.
    pub window: Window,
}

/// Compares two replication-key values: as instants when both are RFC 3339, else as numbers,
/// else as strings.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            match (crate::time::parse(x), crate::time::parse(y)) {
                (Some(p), Some(q)) => p.cmp(&q),
                _ => x.cmp(y),
            }
        }
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// The smaller of two values.
pub fn min(a: Value, b: &Value) -> Value {
    if compare(b, &a) == Ordering::Less {
        b.clone()
    } else {
        a
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
pub fn partition(context: &Map<String, Value>, key: Option<String>, mark: &Mark) -> Partition {
    let mut extra = Map::new();
    if let Some((url, etag)) = &mark.etag {
        extra.insert(ETAG.to_owned(), Value::String(etag.clone()));
        extra.insert(ETAG_URL.to_owned(), Value::String(url.clone()));
    }
    if let Some(head) = &mark.head {
        extra.insert(HEAD.to_owned(), Value::String(head.clone()));
    }
    extra.insert(
        WINDOW.to_owned(),
        serde_json::to_value(&mark.window).unwrap_or(Value::Null),
    );
    Partition {
        context: context.clone(),
        replication_key: key,
        replication_key_value: mark.value.clone(),
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
                Some(&json!("2024-03-01T00:00:00Z")),
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
        assert_eq!(
            since(Some(&json!(42)), None, Duration::from_secs(5)).as_deref(),
            Some("42")
        );
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
    fn lookback_applies_to_a_bookmark_not_to_the_start_date() {
        assert_eq!(
            since(None, Some("2024-01-01T00:00:00Z"), Duration::from_secs(60)).as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
    }

    fn window(start: Option<&str>, dropped: &[&str]) -> Window {
        Window {
            start: start.map(str::to_owned),
            request: "/r?a=1".into(),
            dropped: dropped.iter().map(|d| (*d).to_owned()).collect(),
            unselected: false,
            children: Vec::new(),
        }
    }

    #[test]
    fn a_window_covers_later_starts_fewer_fields_and_the_same_request_only() {
        let stored = window(Some("2024-01-01T00:00:00Z"), &["body"]);
        assert_eq!(
            stored.gap(&window(Some("2024-06-01T00:00:00Z"), &["body"])),
            None
        );
        assert_eq!(
            stored.gap(&window(Some("2024-01-01T01:00:00+01:00"), &["body", "x"])),
            None
        );
        let earlier = stored.gap(&window(Some("2018-01-01T00:00:00Z"), &["body"]));
        assert!(earlier.is_some_and(|g| g.contains("2018-01-01")));
        assert!(stored.gap(&window(None, &["body"])).is_some());
        let field = stored.gap(&window(Some("2024-01-01T00:00:00Z"), &[]));
        assert!(field.is_some_and(|g| g.contains("body")));
        let mut other = window(Some("2024-01-01T00:00:00Z"), &["body"]);
        other.request = "/r?a=2".into();
        assert!(stored.gap(&other).is_some());
        assert_eq!(
            window(None, &[]).gap(&window(Some("2024-01-01T00:00:00Z"), &[])),
            None
        );
        let merged = stored.merged(&window(Some("2025-01-01T00:00:00Z"), &["x"]));
        assert_eq!(merged, window(Some("2024-01-01T00:00:00Z"), &["body", "x"]));
    }

    #[test]
    fn marks_round_trip_through_a_partition() {
        let mut context = Map::new();
        context.insert("shop".into(), json!("acme"));
        let mark = Mark {
            value: Some(json!("2024-01-01T00:00:00Z")),
            etag: Some(("/r?a=1".into(), "W/\"x\"".into())),
            head: Some("abc".into()),
            window: window(None, &["body"]),
        };
        let p = partition(&context, Some("updated_at".into()), &mark);
        let back = Prior::of(&p);
        assert_eq!(back.value, mark.value);
        assert_eq!(back.etag_for("/r?a=1"), Some("W/\"x\""));
        assert_eq!(back.etag_for("/r?a=2"), None);
        assert_eq!(back.head.as_deref(), Some("abc"));
        assert_eq!(back.window, Some(mark.window));
    }

    #[test]
    fn a_newly_selected_child_is_a_gap_and_a_dropped_one_is_not() {
        let mut stored = window(None, &[]);
        stored.children = vec!["reviews".into()];
        let mut asked = window(None, &[]);
        assert_eq!(stored.gap(&asked), None);
        assert!(stored.merged(&asked).children.is_empty());
        asked.children = vec!["reviews".into(), "files".into()];
        assert!(stored.gap(&asked).is_some_and(|g| g.contains("files")));
    }

    #[test]
    fn a_bookmark_of_an_unselected_parent_does_not_cover_its_selection() {
        let mut stored = window(None, &[]);
        stored.unselected = true;
        assert!(stored.gap(&window(None, &[])).is_some());
        let mut asked = window(None, &[]);
        asked.unselected = true;
        assert_eq!(stored.gap(&asked), None);
        assert!(stored.merged(&asked).unselected);
    }
}
