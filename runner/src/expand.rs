//! `${VAR}` and `${VAR:-default}` expansion from the environment, over every string of a TOML
//! document. `$${` stands for a literal `${`.

/// Expands `${VAR}` / `${VAR:-default}` in `text`, using `lookup` for variables. Every missing
/// variable (without a default) is pushed to `missing`.
pub fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            continue;
        }
        let Some(body_start) = tail.strip_prefix("${") else {
            out.push('$');
            rest = &tail[1..];
            continue;
        };
        let Some(end) = body_start.find('}') else {
            // An unclosed `${` is kept as written.
            out.push_str(tail);
            rest = "";
            break;
        };
        let body = &body_start[..end];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        // As in the shell, `:-` also replaces a variable that is set but empty.
        match (
            lookup(name).filter(|v| !v.is_empty() || default.is_none()),
            default,
        ) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_string());
                }
            }
        }
        rest = &body_start[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Expands every string in a TOML value, in place.
pub fn expand_toml(
    value: &mut toml::Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
) {
    match value {
        toml::Value::String(s) => *s = expand(s, lookup, missing),
        toml::Value::Array(items) => {
            for item in items {
                expand_toml(item, lookup, missing);
            }
        }
        toml::Value::Table(table) => {
            for (_, item) in table.iter_mut() {
                expand_toml(item, lookup, missing);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn table_of_cases() {
        let cases = [
            ("plain", "plain", vec![]),
            ("${TOKEN}", "s3cret", vec![]),
            ("a ${TOKEN} b", "a s3cret b", vec![]),
            ("${MISSING:-fallback}", "fallback", vec![]),
            ("${MISSING:-}", "", vec![]),
            ("${EMPTY:-x}", "x", vec![]),
            ("${EMPTY}", "", vec![]),
            ("${MISSING}", "", vec!["MISSING"]),
            ("${A}${B}${A}", "", vec!["A", "B"]),
            ("$${TOKEN}", "${TOKEN}", vec![]),
            ("cost $5", "cost $5", vec![]),
            ("${unclosed", "${unclosed", vec![]),
        ];
        for (input, want, want_missing) in cases {
            let mut missing = Vec::new();
            assert_eq!(expand(input, &env, &mut missing), want, "{input}");
            assert_eq!(missing, want_missing, "{input}");
        }
    }

    #[test]
    fn expands_nested_toml() {
        let mut v: toml::Value =
            toml::from_str("a = [\"${TOKEN}\"]\n[t]\nb = \"${NOPE}\"\nn = 1").expect("toml");
        let mut missing = Vec::new();
        expand_toml(&mut v, &env, &mut missing);
        assert_eq!(v["a"][0].as_str(), Some("s3cret"));
        assert_eq!(missing, vec!["NOPE"]);
    }
}
