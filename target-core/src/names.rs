//! How stream and property names become identifiers, in every target.
//!
//! The rule: a `_` goes between a lower-case letter or digit and the upper-case letter after it,
//! and inside a run of capitals before its last one when a lower-case letter follows
//! (`HTTPServer` → `http_server`); ASCII letters are lower-cased; every run of characters other
//! than ASCII letters, digits and `_` becomes one `_`; a leading digit, or a leading `sqlite_`
//! (reserved by SQLite), gets a `_` in front. A leading `+` or `-` before a digit is spelt out
//! (`+1` → `plus_1`, `-1` → `minus_1`), so GitHub's reaction counts stay apart. Identifiers are
//! always double-quoted in SQL.
//!
//! Where a database limits identifiers (PostgreSQL: 63 bytes), a longer name keeps its first
//! bytes and ends in `_` and 8 hex digits of the SHA-256 of the whole name ([`fit`]), so two long
//! names that share a prefix stay apart, and the same name always gives the same identifier.

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

/// Shortens `name` to at most `max_bytes` bytes when it is longer: its first `max_bytes - 9`
/// bytes, `_`, and the first 8 hex digits of the SHA-256 of the whole name.
pub fn fit(name: &str, max_bytes: usize) -> String {
    use sha2::Digest as _;
    if name.len() <= max_bytes {
        return name.to_string();
    }
    let mut cut = max_bytes.saturating_sub(9);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = sha2::Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{}_{hex}", &name[..cut])
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
    fn long_names_are_shortened_apart() {
        let a = format!("{}_alpha", "x".repeat(70));
        let b = format!("{}_beta", "x".repeat(70));
        let (fa, fb) = (fit(&a, 63), fit(&b, 63));
        assert_eq!((fa.len(), fb.len()), (63, 63));
        assert_ne!(fa, fb);
        assert!(
            fa.starts_with(&"x".repeat(54)) && fa.as_bytes()[54] == b'_',
            "{fa}"
        );
        assert_eq!(fit(&a, 63), fa, "stable");
        assert_eq!(fit("short", 63), "short");
        assert_eq!(fit(&"y".repeat(63), 63), "y".repeat(63));
    }

    #[test]
    fn quoting_escapes_quotes() {
        assert_eq!(quote(r#"a"b"#), r#""a""b""#);
    }
}
