//! Templates: text with `{name}` placeholders, filled from settings, the partition context, a
//! parent record's fields or the bookmark. A value is percent-encoded where it lands in a path
//! (`{project}` → `group%2Fproject`) unless the placeholder says `{name:raw}`; a date value can
//! be formatted, in the stream's time zone, with a strftime pattern (`{bookmark:%Y/%m/%d %H:%M}`)
//! or as `epoch` / `epoch_ms`. `{{` and `}}` are literal braces.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde_json::Value;

/// A parsed template.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var { name: String, format: Format },
}

/// How a placeholder's value is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// As it is; percent-encoded in a path.
    Plain,
    /// As it is, never encoded.
    Raw,
    /// A date-time written with a strftime pattern in the stream's time zone.
    Strftime(String),
    /// A date-time as seconds since the epoch.
    Epoch,
    /// A date-time as milliseconds since the epoch.
    EpochMs,
}

/// Where the rendered text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A URL path: values are percent-encoded (a `/` too) unless raw.
    Path,
    /// A query value, header or body: the caller encodes as that place needs.
    Text,
}

/// Why a template cannot be parsed or filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Unbalanced or empty braces.
    #[error("`{0}`: {1}")]
    Syntax(String, String),
    /// A placeholder has no value.
    #[error("no value for `{{{0}}}`")]
    Missing(String),
    /// A value cannot take the placeholder's format.
    #[error("`{{{0}}}`: {1}")]
    Format(String, String),
}

/// Values the placeholders read, and the time zone dates are written in.
pub trait Vars {
    /// The value of `name`, if there is one.
    fn get(&self, name: &str) -> Option<Value>;
    /// The zone dates are formatted in (UTC unless a stream says otherwise).
    fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::UTC
    }
    /// Whether placeholders of `name` are written as they are (`{name}`, or `{name:FORMAT}`
    /// for a date format) instead of filled: a request described independently of a value.
    fn verbatim(&self, _name: &str) -> bool {
        false
    }
}

impl Template {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let bad = |why: &str| TemplateError::Syntax(source.to_owned(), why.to_owned());
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(bad("a `}` without its `{` (write `}}` for a brace)")),
                '{' => {
                    let mut inner = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') => return Err(bad("a `{` inside a placeholder")),
                            Some(c) => inner.push(c),
                            None => return Err(bad("a `{` without its `}`")),
                        }
                    }
                    let (name, format) = match inner.split_once(':') {
                        Some((n, f)) => (n.trim(), Some(f)),
                        None => (inner.trim(), None),
                    };
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                    {
                        return Err(bad(&format!("`{{{inner}}}` is not a placeholder name")));
                    }
                    let format = match format {
                        None => Format::Plain,
                        Some("raw") => Format::Raw,
                        Some("epoch") => Format::Epoch,
                        Some("epoch_ms") => Format::EpochMs,
                        Some(f) if f.contains('%') => Format::Strftime(f.to_owned()),
                        Some(f) => {
                            return Err(bad(&format!(
                                "unknown format `{f}` (raw, epoch, epoch_ms or a strftime pattern)"
                            )));
                        }
                    };
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Var {
                        name: name.to_owned(),
                        format,
                    });
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The placeholder names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { name, .. } => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Whether the template is only text.
    pub fn is_literal(&self) -> bool {
        self.names().next().is_none()
    }

    /// Fills the placeholders from `vars` for `target`.
    pub fn render(&self, vars: &dyn Vars, target: Target) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var { name, format } if vars.verbatim(name) => match format {
                    Format::Plain | Format::Raw => out.push_str(&format!("{{{name}}}")),
                    Format::Epoch => out.push_str(&format!("{{{name}:epoch}}")),
                    Format::EpochMs => out.push_str(&format!("{{{name}:epoch_ms}}")),
                    Format::Strftime(f) => out.push_str(&format!("{{{name}:{f}}}")),
                },
                Part::Var { name, format } => {
                    let value = vars
                        .get(name)
                        .ok_or_else(|| TemplateError::Missing(name.clone()))?;
                    let text = write(name, &value, format, vars)?;
                    match (target, format) {
                        (Target::Path, Format::Plain) => out.push_str(&encode(&text)),
                        _ => out.push_str(&text),
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A value as text in `format`.
fn write(
    name: &str,
    value: &Value,
    format: &Format,
    vars: &dyn Vars,
) -> Result<String, TemplateError> {
    let plain = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let instant = || {
        crate::time::parse(&plain).ok_or_else(|| {
            TemplateError::Format(name.to_owned(), format!("`{plain}` is not a date-time"))
        })
    };
    Ok(match format {
        Format::Plain | Format::Raw => plain,
        Format::Epoch => instant()?.as_second().to_string(),
        Format::EpochMs => instant()?.as_millisecond().to_string(),
        Format::Strftime(f) => {
            let zoned = instant()?.to_zoned_datetime(vars.zone());
            jiff::fmt::strtime::format(f.as_str(), &zoned)
                .map_err(|e| TemplateError::Format(name.to_owned(), e.to_string()))?
        }
    })
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Template, D::Error> {
        let s = String::deserialize(d)?;
        Template::parse(&s).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    struct Map(BTreeMap<&'static str, Value>, jiff::tz::TimeZone);

    impl Vars for Map {
        fn get(&self, name: &str) -> Option<Value> {
            self.0.get(name).cloned()
        }
        fn zone(&self) -> jiff::tz::TimeZone {
            self.1.clone()
        }
    }

    fn vars() -> Map {
        Map(
            BTreeMap::from([
                ("project", json!("group/sub project")),
                ("bookmark", json!("2024-01-31T13:45:12Z")),
                ("id", json!(42)),
            ]),
            jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC),
        )
    }

    #[test]
    fn paths_encode_values_unless_raw() {
        let t = Template::parse("/projects/{project}/x/{project:raw}/{id}").unwrap();
        assert_eq!(
            t.render(&vars(), Target::Path).unwrap(),
            "/projects/group%2Fsub%20project/x/group/sub project/42"
        );
        assert_eq!(t.names().collect::<Vec<_>>(), ["project", "project", "id"]);
    }

    #[test]
    fn dates_take_a_format_and_a_zone() {
        let t =
            Template::parse("updated >= \"{bookmark:%Y/%m/%d %H:%M}\" ORDER BY updated").unwrap();
        assert_eq!(
            t.render(&vars(), Target::Text).unwrap(),
            "updated >= \"2024/01/31 14:45\" ORDER BY updated"
        );
        let t = Template::parse("{bookmark:epoch}|{bookmark:epoch_ms}").unwrap();
        assert_eq!(
            t.render(&vars(), Target::Text).unwrap(),
            "1706708712|1706708712000"
        );
    }

    struct Verbatim;

    impl Vars for Verbatim {
        fn get(&self, name: &str) -> Option<Value> {
            vars().get(name)
        }
        fn verbatim(&self, name: &str) -> bool {
            name == "bookmark"
        }
    }

    #[test]
    fn verbatim_placeholders_are_written_as_they_are() {
        let t = Template::parse("{bookmark:%Y/%m/%d} {bookmark} {bookmark:epoch} {id}").unwrap();
        assert_eq!(
            t.render(&Verbatim, Target::Path).unwrap(),
            "{bookmark:%Y/%m/%d} {bookmark} {bookmark:epoch} 42"
        );
    }

    #[test]
    fn braces_escape_and_errors_say_why() {
        let t = Template::parse("{{literal}} {id}").unwrap();
        assert_eq!(t.render(&vars(), Target::Text).unwrap(), "{literal} 42");
        assert!(Template::parse("a {b").is_err());
        assert!(Template::parse("a } b").is_err());
        assert!(Template::parse("{}").is_err());
        assert!(Template::parse("{a:weird}").is_err());
        let missing = Template::parse("{nope}")
            .unwrap()
            .render(&vars(), Target::Text);
        assert_eq!(missing, Err(TemplateError::Missing("nope".into())));
        let bad = Template::parse("{id:%Y}")
            .unwrap()
            .render(&vars(), Target::Text);
        assert!(matches!(bad, Err(TemplateError::Format(..))));
    }
}
