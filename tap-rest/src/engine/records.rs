//! The record pipeline of one stream: select the records of a body, keep those its filters
//! accept, add the declared fields, fold undeclared properties into one object (or drop them)
//! and drop deselected ones. It also gives a record's key.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::error::Error;
use crate::defs::stream::Filter;
use crate::defs::{AddField, FieldSource, StreamDef};

/// How one stream's records are shaped.
#[derive(Debug, Clone)]
pub struct Pipeline {
    stream: String,
    filters: Vec<Filter>,
    add: Vec<AddField>,
    primary_key: Vec<String>,
    /// Top-level properties the schema declares: undeclared ones go to `keep_unknown_as`, or
    /// are dropped (`None`: a schema without `properties` keeps everything).
    declared: Option<BTreeSet<String>>,
    keep_unknown_as: Option<String>,
    drop: BTreeSet<String>,
    remove: Vec<String>,
}

impl Pipeline {
    /// The pipeline of `def`: file-wide added fields first (those whose context field the
    /// stream has), then the stream's; `schema` tells which properties are declared; `drop` are
    /// the deselected ones.
    pub fn new(
        file_fields: &[AddField],
        def: &StreamDef,
        context: &BTreeSet<String>,
        schema: &Value,
        drop: BTreeSet<String>,
    ) -> Pipeline {
        let declared = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect());
        Pipeline {
            stream: def.name.clone(),
            filters: def.filters.clone(),
            add: file_fields
                .iter()
                .filter(|f| match &f.from {
                    FieldSource::Context(c) => context.contains(c),
                    FieldSource::Pointer(_) => true,
                })
                .chain(&def.add_fields)
                .cloned()
                .collect(),
            primary_key: def.primary_key.clone(),
            declared,
            keep_unknown_as: def.keep_unknown_as.clone(),
            drop,
            remove: def.remove.clone(),
        }
    }

    /// Whether `record` passes every filter.
    pub fn keeps(&self, record: &Value) -> bool {
        self.filters.iter().all(|f| holds(f, record))
    }

    /// A record as it is written; `context` fills context fields; `url` names it in errors.
    pub fn shape(
        &self,
        record: Value,
        context: &Map<String, Value>,
        url: &str,
    ) -> Result<Map<String, Value>, Error> {
        let Value::Object(mut map) = record else {
            return Err(Error::Body {
                stream: self.stream.clone(),
                url: url.to_owned(),
                why: "a record is not an object".into(),
            });
        };
        for p in &self.remove {
            remove(&mut map, p);
        }
        for f in &self.add {
            let value = match &f.from {
                FieldSource::Context(k) => context.get(k).cloned(),
                FieldSource::Pointer(p) => pointer_in(&map, p).cloned(),
            };
            map.insert(f.name.clone(), value.unwrap_or(Value::Null));
        }
        if let (Some(declared), Some(into)) = (&self.declared, &self.keep_unknown_as) {
            let unknown: Vec<String> = map
                .keys()
                .filter(|k| !declared.contains(*k) && *k != into)
                .cloned()
                .collect();
            if !unknown.is_empty() {
                let mut extra = Map::new();
                for k in unknown {
                    if let Some(v) = map.remove(&k) {
                        extra.insert(k, v);
                    }
                }
                map.insert(into.clone(), Value::Object(extra));
            }
        } else if let Some(declared) = &self.declared {
            map.retain(|k, _| declared.contains(k));
        }
        map.retain(|k, _| !self.drop.contains(k));
        Ok(map)
    }

    /// The primary key of a shaped record as one string.
    pub fn key_of(&self, row: &Map<String, Value>) -> String {
        let values: Vec<&Value> = self
            .primary_key
            .iter()
            .map(|k| row.get(k).unwrap_or(&Value::Null))
            .collect();
        serde_json::to_string(&values).unwrap_or_default()
    }
}

/// Removes the value at JSON pointer `p` from `map`, if there is one.
fn remove(map: &mut Map<String, Value>, p: &str) {
    let Some((parent, last)) = p.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    if parent.is_empty() {
        map.remove(&last);
        return;
    }
    let mut object = Value::Object(std::mem::take(map));
    if let Some(Value::Object(o)) = object.pointer_mut(parent) {
        o.remove(&last);
    }
    if let Value::Object(o) = object {
        *map = o;
    }
}

/// The records of a body at `pointer` (empty: the body itself), and the body.
pub fn parse(
    stream: &str,
    url: &str,
    body: &[u8],
    pointer: &str,
) -> Result<(Vec<Value>, Value), Error> {
    let bad = |why: String| Error::Body {
        stream: stream.to_owned(),
        url: url.to_owned(),
        why,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((Vec::new(), Value::Null));
    }
    let body: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let at = if pointer.is_empty() {
        Some(&body)
    } else {
        body.pointer(pointer)
    };
    let records = match at {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Object(o)) => vec![Value::Object(o.clone())],
        Some(Value::Null) | None => Vec::new(),
        Some(other) => {
            return Err(bad(format!(
                "records at `{pointer}` are neither an array nor an object: {}",
                other.to_string().chars().take(80).collect::<String>()
            )));
        }
    };
    Ok((records, body))
}

fn holds(f: &Filter, record: &Value) -> bool {
    let v = record.pointer(&f.pointer).filter(|v| !v.is_null());
    let json = |t: &toml::Value| serde_json::to_value(t).unwrap_or(Value::Null);
    f.present.is_none_or(|p| p == v.is_some())
        && f.equals.as_ref().is_none_or(|e| v == Some(&json(e)))
        && f.not_equals.as_ref().is_none_or(|e| v != Some(&json(e)))
        && f.one_of
            .as_ref()
            .is_none_or(|all| all.iter().any(|e| v == Some(&json(e))))
}

/// The value at JSON pointer `p` inside an object.
pub fn pointer_in<'m>(map: &'m Map<String, Value>, p: &str) -> Option<&'m Value> {
    let mut parts = p.strip_prefix('/')?.split('/');
    let first = unescape(parts.next()?);
    let rest: Vec<String> = parts.map(|s| format!("/{s}")).collect();
    let top = map.get(&first)?;
    if rest.is_empty() {
        Some(top)
    } else {
        top.pointer(&rest.concat())
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(extra: &str) -> StreamDef {
        toml::from_str(&format!(
            "name = \"s\"\npath = \"/s\"\nprimary_key = [\"id\"]\nreplication = {{ mode = \"full_table\" }}\n{extra}"
        ))
        .expect("stream")
    }

    #[test]
    fn pointers_reach_into_a_map() {
        let Value::Object(m) = json!({"user": {"id": 3}, "a/b": 1}) else {
            unreachable!("an object literal")
        };
        assert_eq!(pointer_in(&m, "/user/id"), Some(&json!(3)));
        assert_eq!(pointer_in(&m, "/a~1b"), Some(&json!(1)));
        assert_eq!(pointer_in(&m, "/none"), None);
        assert_eq!(pointer_in(&m, "user"), None);
    }

    #[test]
    fn filters_add_fields_unknown_and_deselected() {
        let d = def(concat!(
            "filters = [{ pointer = \"/pull_request\", present = false }, { pointer = \"/state\", one_of = [\"open\", \"closed\"] }]\n",
            "add_fields = [{ name = \"owner\", context = \"repo\" }, { name = \"uid\", pointer = \"/user/id\" }]\n",
            "keep_unknown_as = \"extra\"\n"
        ));
        let schema = json!({"properties": {"id": {}, "state": {}, "user": {}, "owner": {}, "uid": {}, "extra": {}, "body": {}}});
        let context = BTreeSet::from(["repo".to_owned()]);
        let p = Pipeline::new(
            &[],
            &d,
            &context,
            &schema,
            BTreeSet::from(["body".to_owned()]),
        );
        assert!(p.keeps(&json!({"state": "open"})));
        assert!(p.keeps(&json!({"state": "open", "pull_request": null})));
        assert!(!p.keeps(&json!({"state": "open", "pull_request": {}})));
        assert!(!p.keeps(&json!({"state": "draft"})));
        let context = json!({"repo": "o/r"}).as_object().cloned().unwrap();
        let row = p
            .shape(
                json!({"id": 1, "state": "open", "user": {"id": 9}, "body": "x", "customfield_1": 5}),
                &context,
                "u",
            )
            .unwrap();
        assert_eq!(
            Value::Object(row.clone()),
            json!({"id": 1, "state": "open", "user": {"id": 9}, "owner": "o/r", "uid": 9, "extra": {"customfield_1": 5}})
        );
        assert_eq!(p.key_of(&row), "[1]");
        assert!(p.shape(json!([1]), &context, "u").is_err());
    }

    #[test]
    fn undeclared_properties_are_dropped_by_default() {
        let d = def("add_fields = [{ name = \"uid\", pointer = \"/user/id\" }]\n");
        let schema = json!({"properties": {"id": {}, "uid": {}}});
        let p = Pipeline::new(&[], &d, &BTreeSet::new(), &schema, BTreeSet::new());
        let row = p
            .shape(
                json!({"id": 1, "user": {"id": 9}, "x": 2}),
                &Map::new(),
                "u",
            )
            .unwrap();
        assert_eq!(Value::Object(row), json!({"id": 1, "uid": 9}));
    }

    #[test]
    fn records_come_from_a_pointer_or_the_body() {
        let (r, _) = parse("s", "u", br#"{"items": [1, 2]}"#, "/items").unwrap();
        assert_eq!(r.len(), 2);
        let (r, _) = parse("s", "u", br#"{"id": 1}"#, "").unwrap();
        assert_eq!(r, vec![json!({"id": 1})]);
        let (r, _) = parse("s", "u", b"  ", "").unwrap();
        assert!(r.is_empty());
        assert!(parse("s", "u", br#"{"items": 3}"#, "/items").is_err());
        assert!(parse("s", "u", b"{", "").is_err());
    }
}
