//! How a shard's bookmark joins the shared one: a three-way merge per partition, not
//! last-writer-wins. The tap of a shard is given the whole stored state (`base`) and prints
//! states that carry every other shard's partitions unchanged from it; only what differs from
//! `base` is this shard's work, and only that replaces the stored value, which other shards
//! may have moved on meanwhile.
//!
//! The unit of a merge is a partition of `bookmarks.<stream>.partitions` (the Meltano SDK
//! layout), found by its `context`; any other key of a stream's bookmark, a whole bookmark
//! without partitions, and top-level keys (`currently_syncing`) are units of their own.

use serde_json::{Map, Value};

/// `stored` with every unit that differs between `base` and `new` taken from `new` (removed
/// where `new` lacks it); every other unit as stored. A state that is not a JSON object is one
/// unit.
pub fn merged(stored: Option<Value>, base: Option<&Value>, new: &Value) -> Value {
    let empty = Value::Object(Map::new());
    let base = base.unwrap_or(&empty);
    match (stored, base, new) {
        (Some(Value::Object(mut stored)), Value::Object(base), Value::Object(new)) => {
            for key in keys(base, new) {
                if key == "bookmarks" {
                    let into = stored.entry(key.clone()).or_insert_with(|| empty.clone());
                    merge_bookmarks(into, base.get(&key), new.get(&key));
                } else {
                    take(&mut stored, &key, base.get(&key), new.get(&key));
                }
            }
            Value::Object(stored)
        }
        (None, _, new) => new.clone(),
        (Some(stored), base, new) if base == new => stored,
        (_, _, new) => new.clone(),
    }
}

/// Merges each stream's bookmark of `base` → `new` into `into`; bookmarks that are not an
/// object on any side are replaced whole when they changed.
fn merge_bookmarks(into: &mut Value, base: Option<&Value>, new: Option<&Value>) {
    match (into, base, new) {
        (Value::Object(into), Some(Value::Object(base)), Some(Value::Object(new))) => {
            for key in keys(base, new) {
                merge_stream(into, &key, base.get(&key), new.get(&key));
            }
        }
        (Value::Object(into), None, Some(Value::Object(new))) => {
            for (key, value) in new {
                merge_stream(into, key, None, Some(value));
            }
        }
        (into, base, new) if base != new => *into = new.cloned().unwrap_or(Value::Null),
        _ => {}
    }
}

/// One stream's bookmark: its partitions one by one, its other keys one by one.
fn merge_stream(
    into: &mut Map<String, Value>,
    stream: &str,
    base: Option<&Value>,
    new: Option<&Value>,
) {
    if base == new {
        return;
    }
    let (Some(Value::Object(new)), Some(Value::Object(stored))) = (new, into.get_mut(stream))
    else {
        return take(into, stream, base, new);
    };
    let empty = Map::new();
    let base = base.and_then(Value::as_object).unwrap_or(&empty);
    for key in keys(base, new) {
        if key == "partitions" {
            merge_partitions(stored, base.get(&key), new.get(&key));
        } else {
            take(stored, &key, base.get(&key), new.get(&key));
        }
    }
}

/// Partitions by context: each one that is new or changed replaces the stored one of its
/// context; each one `new` dropped is dropped.
fn merge_partitions(stream: &mut Map<String, Value>, base: Option<&Value>, new: Option<&Value>) {
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let (base, new) = (list(base), list(new));
    let context = |p: &Value| p.get("context").cloned();
    let stored = stream
        .entry("partitions")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !stored.is_array() {
        *stored = Value::Array(Vec::new());
    }
    let Value::Array(stored) = stored else {
        return;
    };
    for p in &new {
        if base.contains(p) {
            continue;
        }
        match stored.iter_mut().find(|s| context(s) == context(p)) {
            Some(slot) => *slot = p.clone(),
            None => stored.push(p.clone()),
        }
    }
    for gone in base
        .iter()
        .filter(|b| !new.iter().any(|p| context(p) == context(b)))
    {
        stored.retain(|s| context(s) != context(gone));
    }
}

/// Replaces `key` in `into` with `new`'s when it differs from `base`'s.
fn take(into: &mut Map<String, Value>, key: &str, base: Option<&Value>, new: Option<&Value>) {
    if base == new {
        return;
    }
    match new {
        Some(v) => {
            into.insert(key.to_string(), v.clone());
        }
        None => {
            into.remove(key);
        }
    }
}

fn keys(a: &Map<String, Value>, b: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = a.keys().chain(b.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn part(repo: &str, at: &str) -> Value {
        json!({"context": {"repository": repo}, "replication_key_value": at})
    }

    #[test]
    fn two_shards_keep_each_others_partitions() {
        let base =
            json!({"bookmarks": {"commits": {"partitions": [part("o/a", "1"), part("o/b", "1")]}}});
        // Shard A moved o/a, then shard B moved o/b from the same base.
        let after_a = json!({"bookmarks": {"commits": {"partitions": [part("o/a", "2"), part("o/b", "1")]}},
                             "currently_syncing": null});
        let stored = merged(Some(base.clone()), Some(&base), &after_a);
        let after_b = json!({"bookmarks": {"commits": {"partitions": [part("o/a", "1"), part("o/b", "3"), part("o/c", "1")]},
                                           "issues": {"partitions": [part("o/b", "5")]}}});
        let stored = merged(Some(stored), Some(&base), &after_b);
        assert_eq!(
            stored,
            json!({"bookmarks": {"commits": {"partitions": [part("o/a", "2"), part("o/b", "3"), part("o/c", "1")]},
                                 "issues": {"partitions": [part("o/b", "5")]}},
                   "currently_syncing": null})
        );
    }

    #[test]
    fn other_keys_and_shapes_are_units() {
        let base = json!({"bookmarks": {"releases": {"version": 1}, "x": {"partitions": [part("o/a", "1")], "etag": "e1"}}, "k": 1});
        let new = json!({"bookmarks": {"releases": {"version": 2}, "x": {"partitions": [], "etag": "e1"}}, "k": 1});
        let stored = json!({"bookmarks": {"releases": {"version": 1}, "x": {"partitions": [part("o/a", "1"), part("o/z", "9")], "etag": "e2"}}, "k": 7});
        assert_eq!(
            merged(Some(stored), Some(&base), &new),
            json!({"bookmarks": {"releases": {"version": 2}, "x": {"partitions": [part("o/z", "9")], "etag": "e2"}}, "k": 7})
        );
        assert_eq!(merged(None, None, &json!([1])), json!([1]));
        assert_eq!(
            merged(Some(json!(3)), Some(&json!([1])), &json!([1])),
            json!(3)
        );
        assert_eq!(
            merged(Some(json!(3)), None, &json!({"a": 1})),
            json!({"a": 1})
        );
    }
}
