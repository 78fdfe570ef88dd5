//! What `check` found for one stream, and how it is printed on a terminal.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// The report of one stream.
#[derive(Debug, Default, Serialize)]
pub struct StreamReport {
    /// Stream name.
    pub stream: String,
    /// The request, if one could be made.
    pub request: Option<RequestShown>,
    /// The answer's status, if one came.
    pub status: Option<u16>,
    /// How long the answer took, in milliseconds.
    pub time_ms: Option<u64>,
    /// The record path (a JSON pointer; empty: the body).
    pub record_path: String,
    /// Whether records could be read from the answer.
    pub read: bool,
    /// Records on the page (after the stream's filters).
    pub records: usize,
    /// The first three records, as the tap would write them.
    pub first: Vec<Value>,
    /// The next request the paginator would make, or why the list ends.
    pub next: Option<Next>,
    /// The bookmark a run reading this page would write, or why none.
    pub bookmark: Bookmark,
    /// Records that do not match the schema.
    pub mismatches: Vec<Mismatch>,
    /// Top-level properties found in records that the schema does not declare.
    pub undeclared: Vec<String>,
    /// What is wrong, one line each; any makes the check fail.
    pub problems: Vec<String>,
    /// Worth knowing, but not wrong.
    pub notes: Vec<String>,
}

/// A request as shown: no credentials.
#[derive(Debug, Serialize)]
pub struct RequestShown {
    /// `GET` or `POST`.
    pub method: String,
    /// The URL, secrets masked.
    pub url: String,
    /// How it authenticates.
    pub auth: String,
}

/// The next page, or the end of the list.
#[derive(Debug, Serialize)]
pub struct Next {
    /// The next request's URL (secrets masked); `None` at the end.
    pub url: Option<String>,
    /// Why the list ends here, at the end.
    pub end: Option<String>,
}

/// The bookmark a run would write.
#[derive(Debug, Default, Serialize)]
pub struct Bookmark {
    /// `{name: value}`, for incremental streams with a value on the page.
    pub value: Option<Value>,
    /// Why there is none.
    pub none: Option<String>,
}

/// A record that does not match the schema.
#[derive(Debug, Serialize)]
pub struct Mismatch {
    /// The record's position on the page, from 1.
    pub record: usize,
    /// JSON pointer inside the record (empty: the record).
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

impl StreamReport {
    /// Whether the stream answered and matched its schema.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.mismatches.is_empty() && self.undeclared.is_empty()
    }

    /// The report as text for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "== {}", self.stream);
        if let Some(r) = &self.request {
            let _ = writeln!(out, "request:  {} {}  (auth: {})", r.method, r.url, r.auth);
        }
        if let (Some(status), Some(ms)) = (self.status, self.time_ms) {
            let _ = writeln!(out, "answer:   {status} in {ms} ms");
        }
        if self.read {
            let at = if self.record_path.is_empty() {
                "the body".to_owned()
            } else {
                format!("`{}`", self.record_path)
            };
            let shown = match self.records {
                0 => String::new(),
                n if n <= 3 => ", all shown".into(),
                _ => ", the first 3 shown".into(),
            };
            let _ = writeln!(out, "records:  {} at {at}{shown}", self.records);
            for r in &self.first {
                let text = serde_json::to_string_pretty(r).unwrap_or_default();
                for line in text.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        if let Some(n) = &self.next {
            match (&n.url, &n.end) {
                (Some(url), _) => {
                    let _ = writeln!(out, "next:     {url}");
                }
                (None, Some(end)) => {
                    let _ = writeln!(out, "next:     none, {end}");
                }
                (None, None) => {}
            }
        }
        match (&self.bookmark.value, &self.bookmark.none) {
            (Some(v), _) => {
                let _ = writeln!(out, "bookmark: {v}");
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "bookmark: none ({why})");
            }
            (None, None) => {}
        }
        if self.read && self.records > 0 {
            if self.mismatches.is_empty() && self.undeclared.is_empty() {
                let _ = writeln!(out, "schema:   every record matches");
            }
            for m in &self.mismatches {
                let at = if m.path.is_empty() { "/" } else { &m.path };
                let _ = writeln!(out, "schema:   record {} at {at}: {}", m.record, m.problem);
            }
            if !self.undeclared.is_empty() {
                let _ = writeln!(
                    out,
                    "schema:   not declared (the tap drops them): {}",
                    self.undeclared.join(", ")
                );
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "note:     {n}");
        }
        for p in &self.problems {
            let _ = writeln!(out, "error:    {p}");
        }
        let _ = writeln!(out, "{}", if self.ok() { "ok" } else { "FAILED" });
        out
    }
}
