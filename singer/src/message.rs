//! The Singer messages and their strict parsing from one JSON line.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::reader::ReadErrorKind;

/// One Singer message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Message {
    /// Declares a stream's JSON Schema and key properties.
    Schema(Schema),
    /// One record of a stream.
    Record(Record),
    /// A bookmark the target echoes once everything before it is durable.
    State(StateMessage),
    /// Marks the table version that is now complete for a stream.
    ActivateVersion(ActivateVersion),
}

/// A SCHEMA message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    /// Stream name.
    pub stream: String,
    /// JSON Schema of the stream's records.
    pub schema: Value,
    /// Properties that identify a record; empty means append-only.
    pub key_properties: Vec<String>,
    /// Properties the tap bookmarks on, if it says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookmark_properties: Option<Vec<String>>,
}

/// A RECORD message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Stream name.
    pub stream: String,
    /// The record itself.
    pub record: Map<String, Value>,
    /// When the tap extracted it (RFC 3339), if it says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_extracted: Option<String>,
    /// Table version this record belongs to, if the tap versions its table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// A STATE message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateMessage {
    /// The opaque bookmark value.
    pub value: Value,
}

/// An ACTIVATE_VERSION message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivateVersion {
    /// Stream name.
    pub stream: String,
    /// The table version that is now complete.
    pub version: i64,
}

/// Every field any message kind may carry; each is checked by [`Envelope::into_message`].
/// `Some(Value::Null)` is an explicit null, `None` an absent field.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<Value>,
    stream: Option<Value>,
    record: Option<Value>,
    schema: Option<Value>,
    key_properties: Option<Value>,
    bookmark_properties: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
    version: Option<Value>,
    time_extracted: Option<Value>,
}

/// Keeps an explicit `null` as `Some(Value::Null)`; only an absent field is `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The message kinds, as read from `type` in any letter case.
const KINDS: [&str; 4] = ["SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION"];

/// What one line holds.
#[derive(Debug, PartialEq)]
pub(crate) enum Parsed {
    /// A Singer message.
    Message(Message),
    /// A message whose type Singer does not define, with that type.
    Unknown(String),
}

/// Parses one line of text.
pub(crate) fn parse(line: &str) -> Result<Parsed, ReadErrorKind> {
    if !line.trim_start().starts_with('{') {
        // serde would read an array as a struct; tell non-objects from broken JSON instead.
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(line) {
            Ok(_) => ReadErrorKind::NotAnObject,
            Err(e) => ReadErrorKind::InvalidJson(e.to_string()),
        });
    }
    let envelope: Envelope =
        serde_json::from_str(line).map_err(|e| ReadErrorKind::InvalidJson(e.to_string()))?;
    envelope.into_message()
}

impl Envelope {
    fn into_message(self) -> Result<Parsed, ReadErrorKind> {
        let kind = match self.kind {
            None | Some(Value::Null) => return Err(ReadErrorKind::MissingField("type")),
            Some(Value::String(s)) => s,
            Some(_) => return Err(wrong("type", "a string")),
        };
        let Some(kind) = KINDS.iter().find(|k| k.eq_ignore_ascii_case(&kind)) else {
            return Ok(Parsed::Unknown(kind));
        };
        let message = match *kind {
            "SCHEMA" => Message::Schema(Schema {
                stream: required_string(self.stream, "stream")?,
                schema: match self.schema {
                    Some(Value::Object(o)) => Value::Object(o),
                    None | Some(Value::Null) => return Err(ReadErrorKind::MissingField("schema")),
                    Some(_) => return Err(wrong("schema", "an object")),
                },
                key_properties: string_list(self.key_properties, "key_properties")?
                    .unwrap_or_default(),
                bookmark_properties: string_list(self.bookmark_properties, "bookmark_properties")?,
            }),
            "RECORD" => Message::Record(Record {
                stream: required_string(self.stream, "stream")?,
                record: match self.record {
                    Some(Value::Object(o)) => o,
                    None | Some(Value::Null) => return Err(ReadErrorKind::MissingField("record")),
                    Some(_) => return Err(wrong("record", "an object")),
                },
                time_extracted: match self.time_extracted {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s),
                    Some(_) => return Err(wrong("time_extracted", "a string")),
                },
                version: optional_integer(self.version, "version")?,
            }),
            "STATE" => Message::State(StateMessage {
                value: self.value.ok_or(ReadErrorKind::MissingField("value"))?,
            }),
            _ => Message::ActivateVersion(ActivateVersion {
                stream: required_string(self.stream, "stream")?,
                version: optional_integer(self.version, "version")?
                    .ok_or(ReadErrorKind::MissingField("version"))?,
            }),
        };
        Ok(Parsed::Message(message))
    }
}

fn wrong(field: &'static str, expected: &'static str) -> ReadErrorKind {
    ReadErrorKind::WrongType { field, expected }
}

fn required_string(value: Option<Value>, field: &'static str) -> Result<String, ReadErrorKind> {
    match value {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(ReadErrorKind::MissingField(field)),
        Some(_) => Err(wrong(field, "a string")),
    }
}

fn string_list(
    value: Option<Value>,
    field: &'static str,
) -> Result<Option<Vec<String>>, ReadErrorKind> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(wrong(field, "an array of strings")),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(wrong(field, "an array of strings")),
    }
}

fn optional_integer(
    value: Option<Value>,
    field: &'static str,
) -> Result<Option<i64>, ReadErrorKind> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(wrong(field, "an integer")),
        Some(_) => Err(wrong(field, "an integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(line: &str) -> Message {
        match parse(line) {
            Ok(Parsed::Message(m)) => m,
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn type_is_case_insensitive() {
        for kind in ["record", "Record", "RECORD"] {
            let m = ok(&format!(
                r#"{{"type":"{kind}","stream":"s","record":{{"a":1}}}}"#
            ));
            assert!(matches!(m, Message::Record(r) if r.stream == "s"));
        }
        let m = ok(r#"{"type":"activate_version","stream":"s","version":3}"#);
        assert_eq!(
            m,
            Message::ActivateVersion(ActivateVersion {
                stream: "s".into(),
                version: 3
            })
        );
    }

    #[test]
    fn unknown_types_are_skipped() {
        assert_eq!(
            parse(r#"{"type":"BATCH","stream":"s"}"#),
            Ok(Parsed::Unknown("BATCH".into()))
        );
    }

    #[test]
    fn schema_fields() {
        let m = ok(
            r#"{"type":"SCHEMA","stream":"s","schema":{"properties":{}},"key_properties":["id"],"bookmark_properties":["u"]}"#,
        );
        let Message::Schema(s) = m else {
            panic!("not a schema")
        };
        assert_eq!(s.key_properties, vec!["id"]);
        assert_eq!(s.bookmark_properties, Some(vec!["u".to_string()]));
        let m = ok(r#"{"type":"SCHEMA","stream":"s","schema":{}}"#);
        assert!(matches!(m, Message::Schema(s) if s.key_properties.is_empty()));
    }

    #[test]
    fn state_value_may_be_null_but_not_missing() {
        assert_eq!(
            ok(r#"{"type":"STATE","value":null}"#),
            Message::State(StateMessage { value: Value::Null })
        );
        assert_eq!(
            parse(r#"{"type":"STATE"}"#),
            Err(ReadErrorKind::MissingField("value"))
        );
    }

    #[test]
    fn serialises_with_upper_case_type_and_no_empty_options() {
        let m = Message::Record(Record {
            stream: "s".into(),
            record: json!({"a": 1}).as_object().cloned().expect("object"),
            time_extracted: None,
            version: None,
        });
        assert_eq!(
            serde_json::to_string(&m).expect("serialises"),
            r#"{"type":"RECORD","stream":"s","record":{"a":1}}"#
        );
        let m = Message::ActivateVersion(ActivateVersion {
            stream: "s".into(),
            version: 1,
        });
        assert_eq!(
            serde_json::to_string(&m).expect("serialises"),
            r#"{"type":"ACTIVATE_VERSION","stream":"s","version":1}"#
        );
    }
}
