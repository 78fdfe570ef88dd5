//! Timestamps as APIs write them: RFC 3339 and its ISO 8601 relatives (`+0100` offsets, a space
//! for the `T`, fractions of a second), read into instants, and written back in UTC.

use jiff::Timestamp;

/// The instant `text` names, if it is a date-time with an offset.
pub fn parse(text: &str) -> Option<Timestamp> {
    text.trim().parse::<Timestamp>().ok()
}

/// `t` as RFC 3339 in UTC with a `Z` and whole seconds, as REST APIs commonly write it.
pub fn format_utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The current instant.
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// `text` normalised to [`format_utc`]'s form; the error says why it is not a date-time.
pub fn normalise(text: &str) -> Result<String, String> {
    parse(text)
        .map(format_utc)
        .ok_or_else(|| format!("`{text}` is not an RFC 3339 date-time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shapes_apis_write() {
        for (text, utc) in [
            ("2024-01-31T13:45:12Z", "2024-01-31T13:45:12Z"),
            ("2024-01-31T13:45:12.000+0100", "2024-01-31T12:45:12Z"),
            ("2024-01-31T13:45:12+01:00", "2024-01-31T12:45:12Z"),
            ("2024-01-31 13:45:12.5Z", "2024-01-31T13:45:12Z"),
        ] {
            assert_eq!(normalise(text).as_deref(), Ok(utc), "{text}");
        }
        assert!(normalise("yesterday").is_err());
        assert!(parse("2024-01-31").is_none(), "no offset, no instant");
    }
}
