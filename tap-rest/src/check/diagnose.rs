//! One-line explanations of the usual mistakes: a record path or a paginator pointer that finds
//! nothing (with the keys that exist where it looked), an absent header (with the headers that
//! came), an error status (with the body's message).

use reqwest::header::HeaderMap;
use serde_json::Value;

/// The deepest value `pointer` reaches in `body`, and that prefix of the pointer.
fn deepest<'a>(body: &'a Value, pointer: &str) -> (&'a Value, String) {
    let mut at = body;
    let mut prefix = String::new();
    for token in pointer.split('/').skip(1) {
        let next = match at {
            Value::Object(m) => m.get(&token.replace("~1", "/").replace("~0", "~")),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => {
                at = v;
                prefix.push('/');
                prefix.push_str(token);
            }
            None => break,
        }
    }
    (at, prefix)
}

/// What exists where `pointer` stopped finding anything: the keys there, and the array-valued
/// ones as pointers to try.
pub fn missing_list(body: &Value, pointer: &str) -> String {
    missing(body, pointer, true)
}

/// What exists where `pointer` stopped finding anything: the keys there.
pub fn missing_pointer(body: &Value, pointer: &str) -> String {
    missing(body, pointer, false)
}

fn missing(body: &Value, pointer: &str, lists: bool) -> String {
    let (at, prefix) = deepest(body, pointer);
    let level = if prefix.is_empty() {
        "the top level".to_owned()
    } else {
        format!("`{prefix}`")
    };
    match at {
        Value::Object(m) if m.is_empty() => format!("the object at {level} is empty"),
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().map(String::as_str).collect();
            let arrays: Vec<String> = m
                .iter()
                .filter(|(_, v)| v.is_array())
                .map(|(k, _)| format!("`{prefix}/{k}`"))
                .collect();
            let hint = match if lists { arrays.len() } else { 0 } {
                0 => String::new(),
                1 => format!("; the list is probably {}", arrays[0]),
                _ => format!("; lists: {}", arrays.join(", ")),
            };
            format!("keys at {level}: {}{hint}", keys.join(", "))
        }
        Value::Array(_) if prefix.is_empty() => {
            "the body itself is the list: `records = \"\"`".to_owned()
        }
        Value::Array(_) => format!("{level} is the list: stop the pointer there"),
        Value::Null => "the body is empty".to_owned(),
        other => format!("{level} is {}", kind(other)),
    }
}

/// A hint when the record path is the body and the body is an object holding lists: the
/// object is taken as one record, which is rarely meant for a list endpoint.
pub fn envelope_hint(body: &Value) -> Option<String> {
    let Value::Object(m) = body else {
        return None;
    };
    let arrays: Vec<String> = m
        .iter()
        .filter(|(_, v)| v.is_array())
        .map(|(k, _)| format!("`/{k}`"))
        .collect();
    (!arrays.is_empty()).then(|| {
        format!(
            "the body is an object, read as one record; its list{} {} (set `records`)",
            if arrays.len() == 1 { " is" } else { "s are" },
            arrays.join(", ")
        )
    })
}

/// The names of the headers that came.
pub fn header_names(headers: &HeaderMap) -> String {
    let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What an error status usually means, to follow the body's message.
pub fn status_hint(status: u16, credentials: &str) -> String {
    match status {
        401 => format!("the credentials were refused: check {credentials}"),
        403 => "the credentials are valid but may not read this: check the token's scopes or permissions".into(),
        404 => "no such resource: check the stream's `path` and `http.base_url`".into(),
        400 | 422 => "the API refused the request: check the stream's `params` (and `body`)".into(),
        _ => "the request failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_missing_pointer_names_the_keys_and_lists_where_it_stopped() {
        let body = json!({"data": {"items": [1], "total": 1}, "links": {}});
        assert_eq!(
            missing_list(&body, "/data/records"),
            "keys at `/data`: items, total; the list is probably `/data/items`"
        );
        assert_eq!(
            missing_pointer(&body, "/links/next"),
            "the object at `/links` is empty"
        );
        assert_eq!(
            missing_pointer(&body, "/data/next"),
            "keys at `/data`: items, total"
        );
        assert_eq!(
            missing_list(&body, "/next"),
            "keys at the top level: data, links"
        );
    }

    #[test]
    fn a_list_on_the_way_is_pointed_out() {
        assert_eq!(
            missing_list(&json!([{"id": 1}]), "/data"),
            "the body itself is the list: `records = \"\"`"
        );
        assert_eq!(
            missing_list(&json!({"data": [1]}), "/data/items"),
            "`/data` is the list: stop the pointer there"
        );
    }

    #[test]
    fn an_envelope_is_pointed_out() {
        assert!(envelope_hint(&json!({"books": [], "count": 0})).is_some());
        assert!(envelope_hint(&json!({"id": 1})).is_none());
    }
}
