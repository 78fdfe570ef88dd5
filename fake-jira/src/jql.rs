//! The JQL the fake understands: clauses joined by `AND` (`project = X`, `project in (X, Y)`,
//! `project is not EMPTY`, `updated >= "yyyy/MM/dd HH:mm"`, also `>`, `<`, `<=` and relative
//! dates such as `-1d`), then `ORDER BY` one of `updated`, `created`, `key`, `id` with `ASC`
//! or `DESC`. Dates without an offset are read in the searching user's time zone, as Jira does.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Every clause must hold.
    pub clauses: Vec<Clause>,
    /// The sort field and whether it is descending.
    pub order: (SortField, bool),
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// The project key is one of these (upper case).
    Project(Vec<String>),
    /// Always true (`project is not EMPTY`).
    Any,
    /// `updated` or `created` compared with an instant.
    Date {
        /// `updated` (true) or `created`.
        updated: bool,
        /// The comparison.
        op: Op,
        /// The instant the literal names in the user's zone.
        at: Timestamp,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
}

/// What `ORDER BY` sorts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// `updated`
    Updated,
    /// `created`
    Created,
    /// `key` or `id`
    Id,
}

impl Op {
    /// Whether `a op b`.
    pub fn holds(self, a: Timestamp, b: Timestamp) -> bool {
        match self {
            Op::Ge => a >= b,
            Op::Gt => a > b,
            Op::Le => a <= b,
            Op::Lt => a < b,
        }
    }
}

/// Tokens: words, quoted strings, operators and punctuation.
fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut s = String::from("\"");
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some(x) => s.push(x),
                    None => return Err("a quoted value is not closed".into()),
                }
            }
            out.push(s);
        } else if "(),".contains(c) {
            chars.next();
            out.push(c.to_string());
        } else if "<>=!".contains(c) {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if "<>=!".contains(x) {
                    s.push(x);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() || "(),<>=!\"'".contains(x) {
                    break;
                }
                s.push(x);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// Parses `text`; `zone` and `now` read dates. The error is Jira's kind of message.
pub fn parse(text: &str, zone: &TimeZone, now: Timestamp) -> Result<Query, String> {
    let toks = tokens(text)?;
    let mut i = 0;
    let mut clauses = Vec::new();
    let mut order = (SortField::Id, true);
    let word = |i: usize| toks.get(i).map(|s| s.to_ascii_lowercase());
    while i < toks.len() {
        if word(i).as_deref() == Some("order") {
            if word(i + 1).as_deref() != Some("by") {
                return Err("Expecting 'by' after 'order'".into());
            }
            let field = match word(i + 2).as_deref() {
                Some("updated") => SortField::Updated,
                Some("created") => SortField::Created,
                Some("key" | "id") => SortField::Id,
                other => return Err(format!("cannot order by {other:?}")),
            };
            let desc = match word(i + 3).as_deref() {
                None => matches!(field, SortField::Id),
                Some("asc") => false,
                Some("desc") => true,
                Some(other) => return Err(format!("unexpected '{other}' after ORDER BY")),
            };
            if toks.len() > i + 4 {
                return Err("only one ORDER BY field is supported".into());
            }
            order = (field, desc);
            break;
        }
        if !clauses.is_empty() {
            if word(i).as_deref() != Some("and") {
                return Err(format!(
                    "Expecting either 'OR' or 'AND' but got '{}'",
                    toks[i]
                ));
            }
            i += 1;
        }
        let field = word(i).ok_or("a clause is missing")?;
        let op = word(i + 1).ok_or("an operator is missing")?;
        match (field.as_str(), op.as_str()) {
            ("project", "=") => {
                let v = toks.get(i + 2).ok_or("a value is missing")?;
                clauses.push(Clause::Project(vec![unquote(v).to_ascii_uppercase()]));
                i += 3;
            }
            ("project", "in") => {
                if toks.get(i + 2).map(String::as_str) != Some("(") {
                    return Err("Expecting '(' after 'in'".into());
                }
                let mut keys = Vec::new();
                i += 3;
                loop {
                    let v = toks.get(i).ok_or("a list is not closed")?;
                    match v.as_str() {
                        ")" => break,
                        "," => {}
                        v => keys.push(unquote(v).to_ascii_uppercase()),
                    }
                    i += 1;
                }
                clauses.push(Clause::Project(keys));
                i += 1;
            }
            ("project", "is") => {
                if word(i + 2).as_deref() == Some("not") && word(i + 3).as_deref() == Some("empty")
                {
                    clauses.push(Clause::Any);
                    i += 4;
                } else {
                    return Err("only 'project is not EMPTY' is supported".into());
                }
            }
            ("updated" | "created", _) => {
                let op = match op.as_str() {
                    ">=" => Op::Ge,
                    ">" => Op::Gt,
                    "<=" => Op::Le,
                    "<" => Op::Lt,
                    other => return Err(format!("the operator '{other}' is not supported")),
                };
                let v = toks.get(i + 2).ok_or("a date is missing")?;
                let at = date(unquote(v), zone, now).ok_or_else(|| {
                    format!(
                        "Date value '{}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.",
                        unquote(v)
                    )
                })?;
                clauses.push(Clause::Date {
                    updated: field == "updated",
                    op,
                    at,
                });
                i += 3;
            }
            (f, _) => return Err(format!("Field '{f}' is not supported by this fake")),
        }
    }
    Ok(Query { clauses, order })
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"').unwrap_or(v)
}

/// The instant a JQL date literal names: a date (and minute) in `zone`, or `-Nd`/`-Nh`/`-Nm`/
/// `-Nw` before `now`.
fn date(v: &str, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
    if let Some(rest) = v.strip_prefix('-') {
        let (n, unit) = rest.split_at(rest.len().checked_sub(1)?);
        let n: i64 = n.parse().ok()?;
        let secs = match unit {
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return None,
        };
        return now.checked_sub(SignedDuration::from_secs(n * secs)).ok();
    }
    let v = v.replace('/', "-");
    let civil: DateTime = if v.len() == 10 {
        format!("{v}T00:00").parse().ok()?
    } else {
        v.replacen(' ', "T", 1).parse().ok()?
    };
    zone.to_ambiguous_zoned_datetime(civil)
        .compatible()
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn minute_dates_are_read_in_the_users_zone() {
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        let now: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let q = parse(
            "project in (ALPHA, \"beta\") AND updated >= \"2024/01/31 13:45\" ORDER BY updated ASC",
            &la,
            now,
        )
        .unwrap();
        assert_eq!(
            q.clauses,
            [
                Clause::Project(vec!["ALPHA".into(), "BETA".into()]),
                Clause::Date {
                    updated: true,
                    op: Op::Ge,
                    at: "2024-01-31T21:45:00Z".parse().unwrap()
                }
            ]
        );
        assert_eq!(q.order, (SortField::Updated, false));
        let q = parse(
            "updated >= '2024-01-31 13:45' order by updated asc",
            &la,
            now,
        )
        .unwrap();
        assert_eq!(q.clauses.len(), 1);
        let q = parse("updated >= -1d", &la, now).unwrap();
        assert_eq!(
            q.clauses[0],
            Clause::Date {
                updated: true,
                op: Op::Ge,
                at: "2024-12-31T00:00:00Z".parse().unwrap()
            }
        );
        assert!(parse("updated >= \"yesterday\"", &la, now).is_err());
        assert!(parse("summary ~ x", &la, now).is_err());
    }
}
