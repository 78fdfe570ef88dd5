//! How stream and property names become SQLite identifiers.
//!
//! The rule: a `_` goes between a lower-case letter or digit and the upper-case letter after it,
//! and inside a run of capitals before its last one when a lower-case letter follows
//! (`HTTPServer` → `http_server`); ASCII letters are lower-cased; every run of characters other
//! than ASCII letters, digits and `_` becomes one `_`; a leading digit, or a leading `sqlite_`
//! (reserved by SQLite), gets a `_` in front. A leading `+` or `-` before a digit is spelt out
//! (`+1` → `plus_1`, `-1` → `minus_1`), so GitHub's reaction counts stay apart. Identifiers are
//! always double-quoted in SQL.

/// Normalises one name to a lower-case snake_case ASCII identifier.
pub fn normalise(name: &str) -> String {
    let signed = |sign: char, word: &str| {
        let rest = name.strip_prefix(sign)?;
        rest.starts_with(|c: char| c.is_ascii_digit())
            .then(|| format!("{word}{}", normalise(rest)))
    };
    if let Some(spelt) = signed('+', "plus").or_else(|| signed('-', "minus")) {
        return spelt;
    }
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    let mut in_replacement = false;
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if c.is_ascii_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
                let boundary = prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower);
                if boundary && !out.ends_with('_') {
                    out.push('_');
                }
            }
            out.push(c.to_ascii_lowercase());
            in_replacement = false;
        } else if !in_replacement {
            out.push('_');
            in_replacement = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || out.starts_with("sqlite_")
    {
        out.insert(0, '_');
    }
    out
}

/// Double-quotes an identifier for SQL.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_examples() {
        let cases = [
            ("commits", "commits"),
            ("pullRequests", "pull_requests"),
            ("HTTPServer", "http_server"),
            ("html_url", "html_url"),
            ("_sdc_repository", "_sdc_repository"),
            ("user id", "user_id"),
            ("a--b", "a_b"),
            ("bad\"name", "bad_name"),
            ("2fa", "_2fa"),
            ("sqlite_master", "_sqlite_master"),
            ("día", "d_a"),
            ("日本", "_"),
            ("", "_"),
            ("v2Api", "v2_api"),
            ("+1", "plus_1"),
            ("-1", "minus_1"),
            ("-x", "_x"),
        ];
        for (name, want) in cases {
            assert_eq!(normalise(name), want, "{name}");
        }
    }

    #[test]
    fn quoting_escapes_quotes() {
        assert_eq!(quote(r#"a"b"#), r#""a""b""#);
    }
}
