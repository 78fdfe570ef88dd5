//! Bookmarks: the simple `bookmarks.<stream>.<key>` layout and the Meltano SDK partitioned layout
//! `bookmarks.<stream>.partitions[] = {context, replication_key, replication_key_value}`.
//!
//! Every function is a pure update of a [`State`]; nothing here reads or writes files.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A Singer state value: `{"bookmarks": {...}, ...}`. Unknown top-level keys are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct State(pub Map<String, Value>);

/// One partition's bookmark in the Meltano SDK layout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// What identifies the partition, e.g. `{"repository": "octo/app"}`.
    pub context: Map<String, Value>,
    /// The property the bookmark is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key: Option<String>,
    /// The greatest value of that property seen in committed data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key_value: Option<Value>,
    /// Other per-partition fields (an ETag, progress markers), kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl State {
    /// Parses a state value; anything but an object (or null, meaning empty) is an error.
    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        match value {
            Value::Null => Ok(Self::default()),
            other => serde_json::from_value(other),
        }
    }

    /// The state as a JSON value.
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// The bookmark object of `stream`, if any.
    pub fn stream(&self, stream: &str) -> Option<&Map<String, Value>> {
        self.0.get("bookmarks")?.get(stream)?.as_object()
    }

    /// The bookmark object of `stream`, created if absent (replacing a non-object).
    pub fn stream_mut(&mut self, stream: &str) -> &mut Map<String, Value> {
        let bookmarks = object_entry(&mut self.0, "bookmarks");
        object_entry(bookmarks, stream)
    }

    /// `bookmarks.<stream>.<key>` in the simple layout.
    pub fn get(&self, stream: &str, key: &str) -> Option<&Value> {
        self.stream(stream)?.get(key)
    }

    /// Sets `bookmarks.<stream>.<key>` in the simple layout.
    pub fn set(&mut self, stream: &str, key: &str, value: Value) {
        self.stream_mut(stream).insert(key.to_string(), value);
    }

    /// The partition of `stream` whose context equals `context`.
    pub fn partition(&self, stream: &str, context: &Map<String, Value>) -> Option<Partition> {
        self.stream(stream)?
            .get("partitions")?
            .as_array()?
            .iter()
            .filter(|p| p.get("context").and_then(Value::as_object) == Some(context))
            .find_map(|p| serde_json::from_value(p.clone()).ok())
    }

    /// Inserts or replaces the partition with the same context.
    pub fn set_partition(&mut self, stream: &str, partition: &Partition) {
        let stream = self.stream_mut(stream);
        let value = serde_json::to_value(partition).unwrap_or(Value::Null);
        let partitions = match stream.get_mut("partitions") {
            Some(Value::Array(items)) => items,
            _ => {
                stream.insert("partitions".into(), Value::Array(Vec::new()));
                match stream.get_mut("partitions") {
                    Some(Value::Array(items)) => items,
                    // We inserted an array on the line above.
                    _ => unreachable!("partitions was just set to an array"),
                }
            }
        };
        upsert_partition(partitions, value);
    }

    /// Merges `newer` into `self`: top-level keys and stream bookmarks of `newer` win, partitions
    /// are merged by context, and streams or partitions `newer` does not mention are kept.
    pub fn merge(&mut self, newer: &State) {
        for (key, value) in &newer.0 {
            if key != "bookmarks" {
                self.0.insert(key.clone(), value.clone());
                continue;
            }
            let Some(streams) = value.as_object() else {
                continue;
            };
            for (name, bookmark) in streams {
                let ours = self.stream_mut(name);
                let Some(theirs) = bookmark.as_object() else {
                    continue;
                };
                for (k, v) in theirs {
                    match (k.as_str(), ours.get_mut(k), v) {
                        ("partitions", Some(Value::Array(mine)), Value::Array(new)) => {
                            for p in new {
                                upsert_partition(mine, p.clone());
                            }
                        }
                        _ => {
                            ours.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
    }

    /// Removes the bookmarks of `streams`, and a `currently_syncing` naming one of them (set to
    /// null); every other key is left as it is. Returns the streams that had a bookmark.
    pub fn remove_streams<S: AsRef<str>>(&mut self, streams: &[S]) -> Vec<String> {
        let mut removed = Vec::new();
        if let Some(Value::Object(bookmarks)) = self.0.get_mut("bookmarks") {
            for stream in streams {
                if bookmarks.remove(stream.as_ref()).is_some() {
                    removed.push(stream.as_ref().to_owned());
                }
            }
        }
        if let Some(syncing) = self.0.get_mut(CURRENTLY_SYNCING)
            && streams.iter().any(|s| syncing.as_str() == Some(s.as_ref()))
        {
            *syncing = Value::Null;
        }
        removed
    }

    /// Gives each of `streams` the bookmark it has in `source`, removing it where `source` has
    /// none; every other stream and top-level key is left as it is.
    pub fn replace_streams<S: AsRef<str>>(&mut self, source: &State, streams: &[S]) {
        for stream in streams {
            let stream = stream.as_ref();
            match source.0.get("bookmarks").and_then(|b| b.get(stream)) {
                Some(bookmark) => {
                    object_entry(&mut self.0, "bookmarks")
                        .insert(stream.to_owned(), bookmark.clone());
                }
                None => {
                    if let Some(Value::Object(bookmarks)) = self.0.get_mut("bookmarks") {
                        bookmarks.remove(stream);
                    }
                }
            }
        }
    }
}

/// The top-level key singer-python taps (and Meltano) use for the stream being synced.
const CURRENTLY_SYNCING: &str = "currently_syncing";

fn upsert_partition(partitions: &mut Vec<Value>, value: Value) {
    let context = value.get("context").cloned();
    match partitions
        .iter_mut()
        .find(|p| p.get("context").cloned() == context)
    {
        Some(existing) => *existing = value,
        None => partitions.push(value),
    }
}

/// The object at `map[key]`, replacing whatever non-object is there.
fn object_entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(o) => o,
        // The two statements above leave an object in the slot.
        _ => unreachable!("slot was just made an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(repo: &str) -> Map<String, Value> {
        json!({"repository": repo})
            .as_object()
            .cloned()
            .expect("object")
    }

    fn part(repo: &str, v: &str) -> Partition {
        Partition {
            context: ctx(repo),
            replication_key: Some("updated_at".into()),
            replication_key_value: Some(json!(v)),
            extra: Map::new(),
        }
    }

    #[test]
    fn simple_layout() {
        let mut s = State::default();
        s.set("commits", "since", json!("2024"));
        assert_eq!(s.get("commits", "since"), Some(&json!("2024")));
        assert_eq!(
            s.to_value(),
            json!({"bookmarks": {"commits": {"since": "2024"}}})
        );
    }

    #[test]
    fn partitioned_layout_upserts_by_context() {
        let mut s = State::default();
        s.set_partition("issues", &part("a/b", "1"));
        s.set_partition("issues", &part("c/d", "2"));
        s.set_partition("issues", &part("a/b", "3"));
        assert_eq!(s.partition("issues", &ctx("a/b")), Some(part("a/b", "3")));
        assert_eq!(s.partition("issues", &ctx("x/y")), None);
        assert_eq!(
            s.to_value()["bookmarks"]["issues"]["partitions"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
    }

    #[test]
    fn partitions_keep_extra_fields() {
        let mut p = part("a/b", "1");
        p.extra.insert("etag".into(), json!("W/\"x\""));
        let mut s = State::default();
        s.set_partition("issues", &p);
        assert_eq!(s.partition("issues", &ctx("a/b")), Some(p));
    }

    #[test]
    fn merge_keeps_what_newer_does_not_mention() {
        let mut old = State::from_value(json!({
            "bookmarks": {
                "issues": {"partitions": [{"context": {"repository": "a/b"}, "replication_key_value": "1"},
                                          {"context": {"repository": "c/d"}, "replication_key_value": "1"}]},
                "releases": {"version": 1}
            },
            "currently_syncing": "issues"
        }))
        .expect("object");
        let newer = State::from_value(json!({
            "bookmarks": {"issues": {"partitions": [{"context": {"repository": "a/b"}, "replication_key_value": "2"}]}},
            "currently_syncing": null
        }))
        .expect("object");
        old.merge(&newer);
        assert_eq!(
            old.to_value(),
            json!({
                "bookmarks": {
                    "issues": {"partitions": [{"context": {"repository": "a/b"}, "replication_key_value": "2"},
                                              {"context": {"repository": "c/d"}, "replication_key_value": "1"}]},
                    "releases": {"version": 1}
                },
                "currently_syncing": null
            })
        );
    }

    fn surgery_fixture() -> State {
        State::from_value(json!({
            "bookmarks": {
                "commits": {"partitions": [{"context": {"repository": "a/b"}, "replication_key_value": "1", "etag": "W/\"c\""}]},
                "issues": {"partitions": [{"context": {"repository": "a/b"}, "replication_key_value": "1"}]},
                "releases": {"version": 1}
            },
            "currently_syncing": "issues",
            "x_tool": {"kept": [1, 2.5, null]}
        }))
        .expect("object")
    }

    #[test]
    fn remove_streams_drops_only_their_bookmarks_and_currently_syncing() {
        let mut s = surgery_fixture();
        let removed = s.remove_streams(&["issues", "nope"]);
        assert_eq!(removed, vec!["issues".to_string()]);
        let mut expected = surgery_fixture().to_value();
        expected["bookmarks"]
            .as_object_mut()
            .expect("object")
            .remove("issues");
        expected["currently_syncing"] = Value::Null;
        assert_eq!(s.to_value(), expected);

        let mut s = surgery_fixture();
        s.remove_streams(&["releases"]);
        assert_eq!(
            s.0.get("currently_syncing"),
            Some(&json!("issues")),
            "currently_syncing names another stream"
        );
        let mut empty = State::default();
        assert!(empty.remove_streams(&["issues"]).is_empty());
        assert_eq!(empty, State::default(), "no bookmarks key is created");
    }

    #[test]
    fn replace_streams_takes_only_the_named_bookmarks() {
        let mut s = surgery_fixture();
        let source = State::from_value(json!({
            "bookmarks": {
                "issues": {"partitions": [{"context": {"repository": "a/b"}, "replication_key_value": "9"}]},
                "commits": {"ignored": true}
            },
            "currently_syncing": null,
            "x_tool": "ignored"
        }))
        .expect("object");
        s.replace_streams(&source, &["issues", "releases"]);
        let mut expected = surgery_fixture().to_value();
        expected["bookmarks"]["issues"] = source.to_value()["bookmarks"]["issues"].clone();
        expected["bookmarks"]
            .as_object_mut()
            .expect("object")
            .remove("releases");
        assert_eq!(s.to_value(), expected);
        assert_eq!(
            serde_json::to_string(&s.to_value()["bookmarks"]["commits"]).expect("json"),
            serde_json::to_string(&surgery_fixture().to_value()["bookmarks"]["commits"])
                .expect("json"),
            "the other streams are byte-identical"
        );

        let mut empty = State::default();
        empty.replace_streams(&source, &["issues"]);
        assert_eq!(
            empty.to_value(),
            json!({"bookmarks": {"issues": source.to_value()["bookmarks"]["issues"]}})
        );
    }

    #[test]
    fn from_value_rejects_non_objects() {
        assert!(State::from_value(json!([1])).is_err());
        assert_eq!(State::from_value(Value::Null).ok(), Some(State::default()));
    }
}
