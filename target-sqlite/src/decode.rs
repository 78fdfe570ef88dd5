//! The first stage of a load, on its own thread: read lines, parse messages, validate records.
//!
//! Running it apart from the SQLite work uses both cores, and lets the loader notice a quiet
//! tap (no input for a while) while a STATE is pending.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::mpsc::{self, Receiver};

use serde_json::Value;
use singer::{Message, MessageReader};

use crate::loader::LoadError;

/// Messages handed over in batches, to keep channel overhead low.
const BATCH: usize = 256;

/// Batches in flight between the two threads; bounds memory.
const CHANNEL_BATCHES: usize = 8;

/// A parsed message and, for a RECORD that fails its stream's schema, why.
#[derive(Debug)]
pub struct Decoded {
    /// 1-based line number.
    pub line: u64,
    /// The message.
    pub message: Message,
    /// The validation error of a RECORD, if any.
    pub invalid: Option<String>,
}

/// What the decoder hands over: a message, or the error that ended the input.
pub type Item = Result<Decoded, LoadError>;

/// Starts the decoder thread on `input`; validators are compiled once per SCHEMA when `validate`.
pub fn spawn(input: Box<dyn BufRead + Send>, validate: bool) -> Receiver<Vec<Item>> {
    let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(CHANNEL_BATCHES);
    std::thread::spawn(move || {
        let mut reader = MessageReader::new(input);
        let mut validators: HashMap<String, jsonschema::Validator> = HashMap::new();
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let item = match reader.next_message() {
                Ok(None) => None,
                Ok(Some((line, message))) => Some(decode(line, message, validate, &mut validators)),
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

fn decode(
    line: u64,
    mut message: Message,
    validate: bool,
    validators: &mut HashMap<String, jsonschema::Validator>,
) -> Item {
    let mut invalid = None;
    match &mut message {
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
                    invalid = validator.validate(&value).err().map(|e| {
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
    Ok(Decoded {
        line,
        message,
        invalid,
    })
}
