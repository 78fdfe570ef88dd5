//! The first stage of a load, on its own thread: read lines, find wide numbers, parse messages,
//! validate records.
//!
//! Running it apart from the database work uses both cores, and lets the loader notice a quiet
//! tap (no input for a while) while a STATE is pending.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::mpsc::{self, Receiver};

use serde_json::Value;
use singer::{LineContent, LineReader, Message, ReadError, ReadErrorKind};

use crate::loader::LoadError;
use crate::numbers::{self, Wide};

/// Messages handed over in batches, to keep channel overhead low.
const BATCH: usize = 256;

/// Batches in flight between the two threads; bounds memory.
const CHANNEL_BATCHES: usize = 8;

/// A parsed message, its wide numbers and, for a RECORD that fails its stream's schema, why.
#[derive(Debug)]
pub struct Decoded {
    /// 1-based line number.
    pub line: u64,
    /// The message (wide numbers replaced by stand-ins).
    pub message: Message,
    /// Wide numbers of a RECORD's record or a STATE's value, with paths from there.
    pub wide: Vec<Wide>,
    /// The validation error of a RECORD, if any.
    pub invalid: Option<String>,
}

/// What the decoder hands over: a message, or the error that ended the input.
pub type Item = Result<Decoded, LoadError>;

/// Starts the decoder thread on `input`; validators are compiled once per SCHEMA when `validate`.
pub fn spawn(input: Box<dyn BufRead + Send>, validate: bool) -> Receiver<Vec<Item>> {
    let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(CHANNEL_BATCHES);
    std::thread::spawn(move || {
        let mut reader = LineReader::new(input);
        let mut validators: HashMap<String, jsonschema::Validator> = HashMap::new();
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let item = match reader.next_line() {
                Ok(None) => None,
                Ok(Some((line, bytes))) => match parse(line, bytes) {
                    Ok(None) => continue,
                    Ok(Some(decoded)) => Some(validate_record(decoded, validate, &mut validators)),
                    Err(e) => Some(Err(e)),
                },
                Err(e) => Some(Err(LoadError::Read(e))),
            };
            let stop = !matches!(item, Some(Ok(_)));
            let flush = stop
                || matches!(
                    item,
                    Some(Ok(Decoded {
                        message: Message::State(_),
                        ..
                    }))
                );
            batch.extend(item);
            if (flush || batch.len() >= BATCH)
                && tx
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_err()
            {
                return;
            }
            if stop {
                return;
            }
        }
    });
    rx
}

/// Parses one line; `None` for a blank line or a message type Singer does not define.
fn parse(line: u64, bytes: &[u8]) -> Result<Option<Decoded>, LoadError> {
    let error = |kind| LoadError::Read(ReadError { line, kind });
    let text = std::str::from_utf8(bytes).map_err(|e| {
        error(ReadErrorKind::InvalidUtf8 {
            offset: e.valid_up_to(),
        })
    })?;
    // Most lines hold no number a double or a 64-bit integer cannot: parse them as they are,
    // and scan the text only when the parser met a double (or a number out of its range).
    let parsed = singer::parse_text(text);
    let needs_scan = match &parsed {
        Ok(LineContent::Message(Message::Record(r))) => r.record.values().any(has_double),
        Ok(LineContent::Message(Message::State(s))) => has_double(&s.value),
        Ok(_) => false,
        Err(ReadErrorKind::InvalidJson(e)) => e.contains("number out of range"),
        Err(_) => false,
    };
    let (parsed, rewritten) = match needs_scan.then(|| numbers::scan(text)).flatten() {
        // Errors are reported against the line as written, not the rewritten one.
        Some(r) => (
            singer::parse_text(&r.line).or_else(|e| parsed.and(Err(e))),
            Some(r),
        ),
        None => (parsed, None),
    };
    let message = match parsed.map_err(error)? {
        LineContent::Blank => return Ok(None),
        LineContent::Unknown(kind) => {
            tracing::warn!(line, r#type = %kind, "skipping message of unknown type");
            return Ok(None);
        }
        LineContent::Message(m) => m,
    };
    let wide = match (&message, rewritten) {
        (Message::Record(_), Some(r)) => numbers::relative_to(r.wide, "record"),
        (Message::State(_), Some(r)) => numbers::relative_to(r.wide, "value"),
        _ => Vec::new(),
    };
    Ok(Some(Decoded {
        line,
        message,
        wide,
        invalid: None,
    }))
}

/// Whether a value holds a number parsed as a double (the only kind that may have been
/// rounded: integers beyond `u64` parse as doubles too).
fn has_double(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_double),
        Value::Object(fields) => fields.values().any(has_double),
        _ => false,
    }
}

fn validate_record(
    mut decoded: Decoded,
    validate: bool,
    validators: &mut HashMap<String, jsonschema::Validator>,
) -> Item {
    let line = decoded.line;
    match &mut decoded.message {
        Message::Schema(schema) if validate => {
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .should_validate_formats(false)
                .build(&schema.schema)
                .map_err(|e| LoadError::Input {
                    line,
                    message: format!("stream `{}`: invalid JSON Schema: {e}", schema.stream),
                })?;
            validators.insert(schema.stream.clone(), validator);
        }
        Message::Record(record) => {
            if let Some(validator) = validators.get(&record.stream) {
                let value = Value::Object(std::mem::take(&mut record.record));
                if !validator.is_valid(&value) {
                    decoded.invalid = validator.validate(&value).err().map(|e| {
                        let at = e.instance_path().to_string();
                        let at = if at.is_empty() {
                            String::new()
                        } else {
                            format!(" at {at}")
                        };
                        format!("record does not match its schema{at}: {e}")
                    });
                }
                if let Value::Object(fields) = value {
                    record.record = fields;
                }
            }
        }
        _ => {}
    }
    Ok(decoded)
}
