//! Between tap and target: forwards the tap's lines to the target with bounded buffering
//! (back-pressure comes from the pipes), counting records per stream from each line's `type` and
//! `stream` alone. A line that is not a Singer message stops the run.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use serde::Deserialize;

/// Why forwarding stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The tap wrote something that is not a Singer message.
    #[error("tap output line {line} is not a Singer message ({problem}): {excerpt}")]
    NotSinger {
        /// 1-based line number of the tap's stdout.
        line: u64,
        /// What is wrong.
        problem: String,
        /// The start of the line.
        excerpt: String,
    },
    /// Reading the tap's output failed.
    #[error("reading tap output: {0}")]
    Read(String),
    /// The target stopped reading (it exited).
    #[error("target stopped reading its input: {0}")]
    Write(io::Error),
}

/// What went through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// RECORD messages per stream.
    pub records: BTreeMap<String, u64>,
    /// STATE messages.
    pub states: u64,
    /// Messages forwarded.
    pub lines: u64,
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stream: Option<Cow<'a, str>>,
}

/// Copies lines from `tap` to `target` until the tap's output ends; `on_line` sees the running
/// counts after each line (for progress).
pub fn forward(
    tap: impl BufRead,
    target: impl Write,
    on_line: impl FnMut(&Counts),
) -> (Counts, Result<(), ForwardError>) {
    let mut counts = Counts::default();
    let result = copy(tap, target, on_line, &mut counts);
    (counts, result)
}

/// Longest line accepted from a tap.
const MAX_LINE: usize = singer::DEFAULT_MAX_LINE_BYTES;

/// Works on whole buffers: finds the lines of each chunk the tap wrote, checks them, and passes
/// the chunk on with one write. Only a line cut by the chunk's end is copied.
fn copy(
    mut tap: impl BufRead,
    mut target: impl Write,
    mut on_line: impl FnMut(&Counts),
    counts: &mut Counts,
) -> Result<(), ForwardError> {
    let mut partial: Vec<u8> = Vec::new();
    let mut number = 0u64;
    loop {
        let chunk = match tap.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ForwardError::Read(e.to_string())),
        };
        if chunk.is_empty() {
            break;
        }
        let len = chunk.len();
        let mut start = 0;
        let mut state_seen = false;
        if !partial.is_empty() {
            let Some(end) = memchr::memchr(b'\n', chunk) else {
                extend_partial(&mut partial, chunk, number + 1)?;
                tap.consume(len);
                continue;
            };
            extend_partial(&mut partial, &chunk[..end], number + 1)?;
            number += 1;
            state_seen |= check(&partial, number, counts, &mut on_line)?;
            target
                .write_all(&partial)
                .and_then(|()| target.write_all(b"\n"))
                .map_err(ForwardError::Write)?;
            partial.clear();
            start = end + 1;
        }
        let written = start;
        for end in memchr::memchr_iter(b'\n', &chunk[written..]).map(|i| written + i) {
            number += 1;
            match check(&chunk[start..end], number, counts, &mut on_line) {
                Ok(is_state) => state_seen |= is_state,
                Err(e) => {
                    // Pass on what came before the bad line, then stop.
                    let _ = target.write_all(&chunk[written..start]);
                    return Err(e);
                }
            }
            start = end + 1;
        }
        target
            .write_all(&chunk[written..start])
            .map_err(ForwardError::Write)?;
        if state_seen {
            // A STATE is where the target may commit: don't let it sit in our buffer.
            target.flush().map_err(ForwardError::Write)?;
        }
        extend_partial(&mut partial, &chunk[start..], number + 1)?;
        tap.consume(len);
    }
    if !partial.is_empty() {
        number += 1;
        check(&partial, number, counts, &mut on_line)?;
        target
            .write_all(&partial)
            .and_then(|()| target.write_all(b"\n"))
            .map_err(ForwardError::Write)?;
    }
    target.flush().map_err(ForwardError::Write)
}

fn extend_partial(partial: &mut Vec<u8>, bytes: &[u8], line: u64) -> Result<(), ForwardError> {
    if partial.len() + bytes.len() > MAX_LINE {
        return Err(ForwardError::Read(format!(
            "line {line} is longer than {MAX_LINE} bytes"
        )));
    }
    partial.extend_from_slice(bytes);
    Ok(())
}

/// Checks one line and counts it; returns whether it is a STATE. Blank lines pass unchecked.
fn check(
    line: &[u8],
    number: u64,
    counts: &mut Counts,
    on_line: &mut impl FnMut(&Counts),
) -> Result<bool, ForwardError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(false);
    }
    let (kind, stream) = peek(line).map_err(|problem| ForwardError::NotSinger {
        line: number,
        problem,
        excerpt: String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned(),
    })?;
    let is_state = kind.eq_ignore_ascii_case("STATE");
    if kind.eq_ignore_ascii_case("RECORD") {
        let stream = stream.unwrap_or_default();
        match counts.records.get_mut(stream.as_ref()) {
            Some(n) => *n += 1,
            None => {
                counts.records.insert(stream.into_owned(), 1);
            }
        }
    } else if is_state {
        counts.states += 1;
    }
    counts.lines += 1;
    on_line(counts);
    Ok(is_state)
}

/// Reads `type` and `stream` of a line. The common layouts (`{"type":"RECORD","stream":"x",…`,
/// with or without spaces) are read by hand; anything else is parsed as JSON.
fn peek(line: &[u8]) -> Result<(Cow<'_, str>, Option<Cow<'_, str>>), String> {
    if let Some((kind, stream)) = fast_peek(line) {
        return Ok((Cow::Borrowed(kind), stream.map(Cow::Borrowed)));
    }
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    if !text.trim_start().starts_with('{') {
        return Err("not a JSON object".into());
    }
    let peek: Peek<'_> = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let kind = peek.kind.ok_or("no `type`")?;
    Ok((kind, peek.stream))
}

/// `{"type": "X", "stream": "Y"` at the start of the line, strings without escapes.
fn fast_peek(line: &[u8]) -> Option<(&str, Option<&str>)> {
    let mut rest = skip_ws(line.strip_prefix(b"{")?);
    rest = skip_ws(skip_ws(rest.strip_prefix(b"\"type\"")?).strip_prefix(b":")?);
    let (kind, after) = plain_string(rest)?;
    rest = skip_ws(after);
    let stream = match rest.strip_prefix(b",") {
        Some(r) => {
            let r = skip_ws(r);
            match r.strip_prefix(b"\"stream\"") {
                Some(r) => Some(plain_string(skip_ws(skip_ws(r).strip_prefix(b":")?))?.0),
                None => None,
            }
        }
        None => None,
    };
    Some((kind, stream))
}

fn skip_ws(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[n..]
}

/// A JSON string without escapes at the start of `bytes`, and what follows it.
fn plain_string(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let body = bytes.strip_prefix(b"\"")?;
    let end = body.iter().position(|&b| b == b'"' || b == b'\\')?;
    if body[end] == b'\\' {
        return None;
    }
    Some((std::str::from_utf8(&body[..end]).ok()?, &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> (Result<Counts, ForwardError>, String) {
        let mut out = Vec::new();
        // A tiny buffer, so lines are cut across chunks.
        let (counts, result) = forward(
            std::io::BufReader::with_capacity(7, input.as_bytes()),
            &mut out,
            |_| {},
        );
        (
            result.map(|()| counts),
            String::from_utf8(out).expect("utf-8"),
        )
    }

    #[test]
    fn forwards_and_counts() {
        let input = "{\"type\":\"SCHEMA\",\"stream\":\"a\",\"schema\":{}}\n\
                     {\"type\": \"RECORD\", \"stream\": \"a\", \"record\": {\"type\": \"x\"}}\n\
                     {\"stream\":\"b\",\"type\":\"record\",\"record\":{}}\n\
                     {\"type\":\"RECORD\",\"stream\":\"esc\\\"aped\",\"record\":{}}\n\
                     \n\
                     {\"type\":\"STATE\",\"value\":{}}";
        let (counts, out) = run(input);
        let counts = counts.expect("forwards");
        let want: BTreeMap<String, u64> = [("a", 1), ("b", 1), ("esc\"aped", 1)]
            .map(|(k, v)| (k.to_string(), v))
            .into();
        assert_eq!(counts.records, want);
        assert_eq!((counts.states, counts.lines), (1, 5));
        assert_eq!(
            out.lines().count(),
            6,
            "blank lines pass through; targets skip them"
        );
        assert!(out.ends_with("{\"type\":\"STATE\",\"value\":{}}\n"));
    }

    #[test]
    fn non_singer_lines_stop_with_their_number() {
        for (bad, problem) in [
            ("hello world", "not a JSON object"),
            ("{\"stream\":\"a\"}", "no `type`"),
            ("{\"type\":", "invalid JSON"),
        ] {
            let (result, _) = run(&format!("{{\"type\":\"STATE\",\"value\":1}}\n{bad}\n"));
            let err = result.expect_err("stops").to_string();
            assert!(
                err.starts_with(&format!(
                    "tap output line 2 is not a Singer message ({problem}"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn fast_peek_reads_common_layouts() {
        assert_eq!(
            fast_peek(br#"{"type":"RECORD","stream":"s","record":{}}"#),
            Some(("RECORD", Some("s")))
        );
        assert_eq!(
            fast_peek(br#"{ "type" : "STATE" , "value": 1}"#),
            Some(("STATE", None))
        );
        assert_eq!(fast_peek(br#"{"stream":"s","type":"RECORD"}"#), None);
    }
}
