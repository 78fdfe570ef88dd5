//! Requests as the engine sends them, and the scope their templates are filled from: the
//! settings, the partition context (a partition key, a parent's fields), the bookmark and the
//! time zone bookmark placeholders are written in.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::Error;
use crate::defs::stream::Method;
use crate::defs::template::{Target, Template, Vars};

/// One HTTP request: the URL carries no credentials (the client adds them).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: Method,
    /// Absolute URL with its query.
    pub url: String,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
    /// JSON body (`POST`).
    pub body: Option<Value>,
}

impl Request {
    /// A `GET` of `url`.
    pub fn get(url: String) -> Request {
        Request {
            method: Method::GET,
            url,
            headers: BTreeMap::new(),
            body: None,
        }
    }

    /// This request with query parameter `name` set to `value` (replacing it).
    pub fn with_param(&self, name: &str, value: &str) -> Result<Request, Error> {
        let mut u = parse_url(&self.url)?;
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != name)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair(name, value);
        Ok(Request {
            url: u.to_string(),
            ..self.clone()
        })
    }

    /// This request with top-level body field `name` set to `value`.
    pub fn with_body_field(&self, name: &str, value: Value) -> Request {
        let mut body = match &self.body {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        body.insert(name.to_owned(), value);
        Request {
            body: Some(Value::Object(body)),
            ..self.clone()
        }
    }

    /// This request at another URL (a next page), keeping method, headers and body.
    pub fn at(&self, url: String) -> Request {
        Request {
            url,
            ..self.clone()
        }
    }

    /// A key for loop detection: URL and body.
    pub fn identity(&self) -> String {
        match &self.body {
            Some(b) => format!("{} {b}", self.url),
            None => self.url.clone(),
        }
    }
}

/// Parses an absolute URL.
pub fn parse_url(url: &str) -> Result<reqwest::Url, Error> {
    reqwest::Url::parse(url).map_err(|e| Error::Setup(format!("{url}: {e}")))
}

/// `url` with `params` appended as its query (no `?` when there are none).
pub fn with_query(url: &str, params: &BTreeMap<String, String>) -> Result<String, Error> {
    let mut u = parse_url(url)?;
    if !params.is_empty() {
        u.query_pairs_mut().extend_pairs(params);
    }
    Ok(u.to_string())
}

/// What templates read.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The resolved settings.
    pub settings: Map<String, Value>,
    /// The partition context.
    pub context: Map<String, Value>,
    /// The bookmark placeholders' value (the since value), if any.
    pub bookmark: Option<String>,
    /// Further names (`value`, `old`, `new`, `version`, `now`, …).
    pub extra: BTreeMap<String, Value>,
    /// The zone of `{bookmark:%…}`.
    pub zone: Option<jiff::tz::TimeZone>,
    /// Bookmark placeholders are written as they are, whatever their format: the request a
    /// bookmark is kept for, independent of its value.
    pub verbatim_bookmark: bool,
}

impl Vars for Scope {
    fn get(&self, name: &str) -> Option<Value> {
        if name == "bookmark" {
            return self.bookmark.clone().map(Value::String);
        }
        self.extra
            .get(name)
            .or_else(|| self.context.get(name))
            .or_else(|| self.settings.get(name))
            .cloned()
    }

    fn zone(&self) -> jiff::tz::TimeZone {
        self.zone.clone().unwrap_or(jiff::tz::TimeZone::UTC)
    }

    fn verbatim(&self, name: &str) -> bool {
        self.verbatim_bookmark && name == "bookmark"
    }
}

impl Scope {
    /// This scope with `name` set.
    pub fn with(&self, name: &str, value: Value) -> Scope {
        let mut s = self.clone();
        s.extra.insert(name.to_owned(), value);
        s
    }

    /// Fills `t` for `target`; an error names `what`.
    pub fn fill(&self, t: &Template, target: Target, what: &str) -> Result<String, Error> {
        t.render(self, target)
            .map_err(|e| Error::Setup(format!("{what}: {e}")))
    }

    /// Fills a parameter table; parameters whose template reads `{bookmark}` are left out when
    /// there is no bookmark.
    pub fn params(
        &self,
        params: &BTreeMap<String, Template>,
        what: &str,
    ) -> Result<BTreeMap<String, String>, Error> {
        params
            .iter()
            .filter(|(_, t)| self.bookmark.is_some() || !t.names().any(|n| n == "bookmark"))
            .map(|(k, t)| Ok((k.clone(), self.fill(t, Target::Text, what)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_are_replaced_and_bodies_extended() {
        let r = Request::get("http://x/a?b=1&since=old&c=2".into());
        let r = r.with_param("since", "2024-01-01T00:00:00Z").unwrap();
        assert_eq!(r.url, "http://x/a?b=1&c=2&since=2024-01-01T00%3A00%3A00Z");
        let b = r.with_body_field("nextPageToken", json!("t"));
        assert_eq!(b.body, Some(json!({"nextPageToken": "t"})));
        assert_ne!(b.identity(), r.identity());
    }

    #[test]
    fn bookmark_parameters_wait_for_a_bookmark() {
        let params = BTreeMap::from([
            (
                "q".to_owned(),
                Template::parse("updated>={bookmark}").unwrap(),
            ),
            ("n".to_owned(), Template::parse("{size}").unwrap()),
        ]);
        let mut scope = Scope::default();
        scope.settings.insert("size".into(), json!(50));
        let got = scope.params(&params, "x").unwrap();
        assert_eq!(got, BTreeMap::from([("n".to_owned(), "50".to_owned())]));
        scope.bookmark = Some("2024".into());
        assert_eq!(scope.params(&params, "x").unwrap()["q"], "updated>=2024");
    }
}
