//! Writes Singer messages as compact JSON lines with upper-case types.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::message::Message;

/// Writes one message per line and flushes after every STATE, so a reader sees each bookmark
/// as soon as it is written.
#[derive(Debug)]
pub struct MessageWriter<W: Write> {
    out: W,
}

/// A RECORD borrowed from the caller, so writing needs no copy of the record.
#[derive(Serialize)]
struct RecordRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    stream: &'a str,
    record: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_extracted: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

impl<W: Write> MessageWriter<W> {
    /// Wraps `out`; buffer it yourself if it is unbuffered.
    pub fn new(out: W) -> Self {
        Self { out }
    }

    /// Writes one message; flushes when it is a STATE.
    pub fn write(&mut self, message: &Message) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, message)?;
        self.out.write_all(b"\n")?;
        if matches!(message, Message::State(_)) {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Writes a RECORD without taking ownership of the record.
    pub fn write_record(
        &mut self,
        stream: &str,
        record: &Map<String, Value>,
        time_extracted: Option<&str>,
        version: Option<i64>,
    ) -> io::Result<()> {
        let message = RecordRef {
            kind: "RECORD",
            stream,
            record,
            time_extracted,
            version,
        };
        serde_json::to_writer(&mut self.out, &message)?;
        self.out.write_all(b"\n")
    }

    /// Writes a bare JSON value as one line and flushes: how a target echoes a committed STATE.
    pub fn write_state_value(&mut self, value: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Record, StateMessage};
    use crate::reader::MessageReader;
    use serde_json::json;

    /// Counts flushes so the STATE rule can be checked.
    #[derive(Default)]
    struct Probe {
        bytes: Vec<u8>,
        flushes: usize,
    }

    impl Write for Probe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn round_trips_and_flushes_only_after_state() {
        let record = json!({"id": 1, "name": "é \"q\"\n"})
            .as_object()
            .cloned()
            .expect("object");
        let mut w = MessageWriter::new(Probe::default());
        w.write_record("s", &record, Some("2024-01-01T00:00:00Z"), None)
            .expect("writes");
        assert_eq!(w.out.flushes, 0);
        w.write(&Message::State(StateMessage {
            value: json!({"b": 1}),
        }))
        .expect("writes");
        assert_eq!(w.out.flushes, 1);
        let out = w.into_inner().bytes;
        let text = String::from_utf8(out.clone()).expect("utf-8");
        assert!(
            text.starts_with(r#"{"type":"RECORD","stream":"s","record":"#),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2);
        let read: Vec<_> = MessageReader::new(out.as_slice())
            .map(|r| r.expect("valid").1)
            .collect();
        assert_eq!(
            read[0],
            Message::Record(Record {
                stream: "s".into(),
                record,
                time_extracted: Some("2024-01-01T00:00:00Z".into()),
                version: None
            })
        );
    }
}
