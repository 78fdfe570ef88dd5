//! Streaming readers: bounded lines from any `BufRead`, then Singer messages with line numbers.

use std::io::{self, BufRead};

use crate::message::{self, Message, Parsed};

/// The longest line accepted unless configured otherwise: 64 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// A bad line of input, with its 1-based line number.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ReadError {
    /// 1-based number of the offending line.
    pub line: u64,
    /// What is wrong with it.
    pub kind: ReadErrorKind,
}

/// What is wrong with a line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// Reading the input failed.
    #[error("cannot read input: {0}")]
    Io(#[from] io::Error),
    /// The line holds bytes that are not UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// 0-based byte offset of the first bad byte within the line.
        offset: usize,
    },
    /// The line is longer than the configured maximum.
    #[error("line longer than {max} bytes")]
    LineTooLong {
        /// The configured maximum.
        max: usize,
    },
    /// The line is not JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The line is JSON but not an object.
    #[error("message is not a JSON object")]
    NotAnObject,
    /// A required field is absent or null.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A field has the wrong JSON type.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// The field's name.
        field: &'static str,
        /// What it should be, e.g. "a string".
        expected: &'static str,
    },
}

impl PartialEq for ReadErrorKind {
    fn eq(&self, other: &Self) -> bool {
        // io::Error has no equality; compare by rendering, which is what users see anyway.
        self.to_string() == other.to_string()
    }
}

/// Reads lines of at most a maximum length, reusing one buffer, counting line numbers.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line: u64,
    max_line_bytes: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps `inner` with the default maximum line length.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            line: 0,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }

    /// Sets the maximum line length in bytes (the newline not counted).
    #[must_use]
    pub fn with_max_line_bytes(mut self, max: usize) -> Self {
        self.max_line_bytes = max;
        self
    }

    /// Number of the line last returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// Returns the next line without its `\n` (or `\r\n`), or `None` at end of input.
    /// A last line without a newline is returned as it is.
    pub fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, ReadError> {
        self.buf.clear();
        let mut too_long = false;
        let mut saw_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.error_here(ReadErrorKind::Io(e))),
            };
            if available.is_empty() {
                break;
            }
            saw_any = true;
            let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], true),
                None => (available, false),
            };
            let used = chunk.len() + usize::from(found_newline);
            if !too_long {
                if self.buf.len() + chunk.len() > self.max_line_bytes {
                    too_long = true;
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            if found_newline {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.line += 1;
        if too_long {
            return Err(self.error_here(ReadErrorKind::LineTooLong {
                max: self.max_line_bytes,
            }));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some((self.line, &self.buf)))
    }

    fn error_here(&self, kind: ReadErrorKind) -> ReadError {
        ReadError {
            line: self.line.max(1),
            kind,
        }
    }
}

/// Reads Singer messages, one per line, skipping blank lines and unknown message types.
#[derive(Debug)]
pub struct MessageReader<R> {
    lines: LineReader<R>,
}

impl<R: BufRead> MessageReader<R> {
    /// Wraps `inner` with the default maximum line length.
    pub fn new(inner: R) -> Self {
        Self {
            lines: LineReader::new(inner),
        }
    }

    /// Sets the maximum line length in bytes.
    #[must_use]
    pub fn with_max_line_bytes(mut self, max: usize) -> Self {
        self.lines = self.lines.with_max_line_bytes(max);
        self
    }

    /// Returns the next message with its line number, `None` at end of input.
    pub fn next_message(&mut self) -> Result<Option<(u64, Message)>, ReadError> {
        loop {
            let Some((line, bytes)) = self.lines.next_line()? else {
                return Ok(None);
            };
            match parse_bytes(bytes) {
                Ok(Some(Parsed::Message(message))) => return Ok(Some((line, message))),
                Ok(Some(Parsed::Unknown(kind))) => {
                    tracing::warn!(line, r#type = %kind, "skipping message of unknown type");
                }
                Ok(None) => {}
                Err(kind) => return Err(ReadError { line, kind }),
            }
        }
    }
}

impl<R: BufRead> Iterator for MessageReader<R> {
    type Item = Result<(u64, Message), ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_message().transpose()
    }
}

/// Parses one line's bytes; `Ok(None)` for a blank line or a message type Singer does not define.
pub fn parse_line(bytes: &[u8]) -> Result<Option<Message>, ReadErrorKind> {
    Ok(match parse_bytes(bytes)? {
        Some(Parsed::Message(message)) => Some(message),
        Some(Parsed::Unknown(_)) | None => None,
    })
}

/// What one line of text holds.
#[derive(Debug, PartialEq)]
pub enum LineContent {
    /// Nothing but white space.
    Blank,
    /// A Singer message.
    Message(Message),
    /// A message whose type Singer does not define, with that type.
    Unknown(String),
}

/// Parses one line of text (for callers that look at the text before it is parsed).
pub fn parse_text(text: &str) -> Result<LineContent, ReadErrorKind> {
    if text.trim().is_empty() {
        return Ok(LineContent::Blank);
    }
    Ok(match message::parse(text)? {
        Parsed::Message(m) => LineContent::Message(m),
        Parsed::Unknown(kind) => LineContent::Unknown(kind),
    })
}

/// Parses one line's bytes; `Ok(None)` for a blank line.
fn parse_bytes(bytes: &[u8]) -> Result<Option<Parsed>, ReadErrorKind> {
    let text = std::str::from_utf8(bytes).map_err(|e| ReadErrorKind::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    message::parse(text).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_all(input: &[u8], max: usize) -> Vec<Result<(u64, Message), ReadError>> {
        let mut reader = MessageReader::new(input).with_max_line_bytes(max);
        let mut out = Vec::new();
        loop {
            match reader.next_message() {
                Ok(Some(m)) => out.push(Ok(m)),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }

    fn first_error(input: &str) -> String {
        match read_all(input.as_bytes(), 64)
            .into_iter()
            .find_map(Result::err)
        {
            Some(e) => e.to_string(),
            None => "no error".to_string(),
        }
    }

    #[test]
    fn every_bad_input_kind_names_its_line() {
        let state = r#"{"type":"STATE","value":{}}"#;
        let cases = [
            ("{not json", "line 2: invalid JSON"),
            ("[1,2]", "line 2: message is not a JSON object"),
            ("42", "line 2: message is not a JSON object"),
            (r#"{"stream":"s"}"#, "line 2: missing field `type`"),
            (r#"{"type":7}"#, "line 2: field `type` must be a string"),
            (
                r#"{"type":"RECORD","record":{}}"#,
                "line 2: missing field `stream`",
            ),
            (
                r#"{"type":"RECORD","stream":1,"record":{}}"#,
                "line 2: field `stream` must be a string",
            ),
            (
                r#"{"type":"RECORD","stream":"s"}"#,
                "line 2: missing field `record`",
            ),
            (
                r#"{"type":"RECORD","stream":"s","record":[]}"#,
                "line 2: field `record` must be an object",
            ),
            (
                r#"{"type":"SCHEMA","stream":"s"}"#,
                "line 2: missing field `schema`",
            ),
            (
                r#"{"type":"SCHEMA","stream":"s","schema":true}"#,
                "line 2: field `schema` must be an object",
            ),
            (
                r#"{"type":"SCHEMA","stream":"s","schema":{},"key_properties":"id"}"#,
                "line 2: field `key_properties` must be an array of strings",
            ),
            (r#"{"type":"STATE"}"#, "line 2: missing field `value`"),
            (
                r#"{"type":"ACTIVATE_VERSION","stream":"s"}"#,
                "line 2: missing field `version`",
            ),
            (
                r#"{"type":"RECORD","stream":"s","record":{},"version":"x"}"#,
                "line 2: field `version` must be an integer",
            ),
            (&"x".repeat(65), "line 2: line longer than 64 bytes"),
        ];
        for (bad, expected) in cases {
            let got = first_error(&format!("{state}\n{bad}\n{state}\n"));
            assert!(
                got.starts_with(expected),
                "{bad}: got {got:?}, want {expected:?}"
            );
        }
    }

    #[test]
    fn non_utf8_is_an_error_with_offset() {
        let input = b"{\"type\":\"STATE\",\"value\":\"\xff\"}\n";
        let got = read_all(input, 1024);
        assert_eq!(
            got[0].as_ref().map_err(ToString::to_string).err(),
            Some("line 1: invalid UTF-8 at byte 25".into())
        );
    }

    #[test]
    fn blank_lines_crlf_and_missing_final_newline() {
        let input =
            "\n  \r\n{\"type\":\"STATE\",\"value\":1}\r\n\n{\"type\":\"STATE\",\"value\":2}";
        let got: Vec<_> = read_all(input.as_bytes(), 1024)
            .into_iter()
            .map(|r| r.map(|(l, _)| l).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(got, vec![Ok(3), Ok(5)]);
    }

    #[test]
    fn truncated_last_line_is_an_error() {
        let got = first_error("{\"type\":\"STATE\",\"value\":1}\n{\"type\":\"STA");
        assert!(got.starts_with("line 2: invalid JSON"), "{got}");
    }

    #[test]
    fn long_line_error_does_not_stop_line_counting() {
        let input = format!("{}\n{{\"type\":\"STATE\",\"value\":1}}\n", "y".repeat(100));
        let mut lines = LineReader::new(input.as_bytes()).with_max_line_bytes(30);
        assert!(lines.next_line().is_err());
        let (n, _) = lines
            .next_line()
            .expect("second line reads")
            .expect("present");
        assert_eq!(n, 2);
    }

    #[test]
    fn unknown_types_are_skipped_and_counted() {
        let got = read_all(
            b"{\"type\":\"BATCH\"}\n{\"type\":\"state\",\"value\":0}\n",
            1024,
        );
        assert!(matches!(got.as_slice(), [Ok((2, Message::State(_)))]));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_all(&input, 128);
        }

        #[test]
        fn tiny_buffers_read_the_same_lines(lines in proptest::collection::vec("[a-z ]{0,40}", 1..20)) {
            let text = lines.join("\n");
            let mut big = LineReader::new(text.as_bytes());
            let mut small = LineReader::new(io::BufReader::with_capacity(3, text.as_bytes()));
            loop {
                let a = big.next_line().expect("reads").map(|(n, b)| (n, b.to_vec()));
                let b = small.next_line().expect("reads").map(|(n, b)| (n, b.to_vec()));
                prop_assert_eq!(&a, &b);
                if a.is_none() { break; }
            }
        }
    }
}
