//! The definitions vocabulary: a typed, closed description of a REST API as Singer streams, read
//! from TOML and checked completely when it loads. Every error names the file, the line and the
//! key. Anything the engine cannot do is an error here, not a surprise at run time.
//!
//! # Layout
//! - [`settings`]: the settings a connector needs (→ config schema, `--about`, config check).
//! - [`http`]: base URL, headers, User-Agent, conditional requests, rate limits.
//! - [`auth`]: how requests authenticate.
//! - [`paging`]: how pages follow each other.
//! - [`partitions`]: where partitions come from.
//! - [`stream`]: one stream.
//! - [`template`]: `{placeholders}` in paths, parameters, headers and bodies.
//! - [`locate`]: key paths ↔ lines.
//! - this file: the whole file, [`Definitions::parse`] and the checks.

pub mod auth;
pub mod http;
pub mod locate;
pub mod paging;
pub mod partitions;
pub mod settings;
pub mod stream;
pub mod template;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

pub use auth::AuthDef;
pub use http::{HttpDef, RateLimitDef};
pub use paging::PaginatorDef;
pub use partitions::{PartitionSource, PartitionsDef};
pub use settings::SettingDef;
pub use stream::{HeadDef, Order, ParentDef, Replication, StreamDef, Zone};
pub use template::Template;

/// A whole definitions file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definitions {
    /// Who the connector is.
    pub connector: ConnectorDef,
    /// The settings it needs, by name.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingDef>,
    /// What every request shares.
    pub http: HttpDef,
    /// How requests authenticate.
    #[serde(default)]
    pub auth: AuthDef,
    /// How the API limits the request rate.
    #[serde(default)]
    pub rate_limit: RateLimitDef,
    /// Where partitions come from; none: every stream runs once, unpartitioned.
    #[serde(default)]
    pub partitions: Option<PartitionsDef>,
    /// Fields added to the records of every stream.
    #[serde(default)]
    pub add_fields: Vec<AddField>,
    /// Status → action entries that apply to every stream (a stream's own entries win).
    #[serde(default)]
    pub on_status: BTreeMap<String, StatusAction>,
    /// The streams, in the order the catalog lists them.
    #[serde(rename = "stream")]
    pub streams: Vec<StreamDef>,
}

/// Who the connector is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorDef {
    /// Short name: the tap is `tap-<name>`, its schemas live in `schemas/<name>/`.
    pub name: String,
    /// One sentence for `--about`.
    #[serde(default)]
    pub description: String,
    /// The folder of stream schemas, relative to the definitions file (default
    /// `../schemas/<name>`, then `schemas/<name>` beside the file).
    #[serde(default)]
    pub schemas: Option<String>,
    /// Groups of settings of which at least one must be given.
    #[serde(default)]
    pub require_any: Vec<Vec<String>>,
}

/// Copies a value into each record under a top-level name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddField {
    /// Top-level field to set.
    pub name: String,
    /// Where the value comes from.
    #[serde(flatten)]
    pub from: FieldSource,
}

/// The origin of an added field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// A field of the partition context (a partition key or a parent's context field).
    Context(String),
    /// A JSON pointer into the record itself (e.g. `/user/id`).
    Pointer(String),
}

/// What to do with a status that is neither success nor handled by the HTTP client (retries
/// of 5xx, rate limits, 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    /// Retry with backoff, like a 5xx.
    Retry,
    /// The partition is missing: skip it (a warning, or a failure at the end of the run for a
    /// partition the user named; see the partition source's `missing`).
    SkipPartition,
    /// Treat as a successful response with no records.
    Empty,
    /// Stop the run with an error.
    Fail,
}

/// A definitions file that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {}{message}", key.as_deref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct DefError {
    /// The file (or a name for embedded text).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The key at fault.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Names every template may read besides settings.
const ALWAYS: [&str; 2] = ["version", "now"];

impl Definitions {
    /// Parses and checks a definitions file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Definitions, DefError> {
        let keys = locate::Keys::of(text);
        let defs: Definitions = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let key = keys.path_at(offset).map(str::to_owned);
            DefError {
                file: file.to_owned(),
                line: keys.line_at(offset),
                key,
                message: e.message().trim().replace('\n', " "),
            }
        })?;
        if let Some((path, message)) = defs.problems().into_iter().next() {
            return Err(DefError {
                file: file.to_owned(),
                line: keys.line_of(&path).unwrap_or(1),
                key: Some(path),
                message,
            });
        }
        Ok(defs)
    }

    /// The stream named `name`.
    pub fn stream(&self, name: &str) -> Option<&StreamDef> {
        self.streams.iter().find(|s| s.name == name)
    }

    /// The action for `status` in `stream`, if one is defined.
    pub fn action(&self, stream: &StreamDef, status: u16) -> Option<StatusAction> {
        let code = status.to_string();
        stream
            .on_status
            .get(&code)
            .or_else(|| self.on_status.get(&code))
            .copied()
    }

    /// The context fields a stream's records and templates can read: the partition key (when
    /// partitioned) and its ancestors' context fields.
    pub fn context_fields(&self, stream: &StreamDef) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut at = Some(stream);
        let mut hops = 0;
        while let Some(s) = at {
            if let Some(p) = &s.parent {
                out.extend(p.context.keys().cloned());
                at = self.stream(&p.stream);
            } else {
                if s.partitioned
                    && let Some(p) = &self.partitions
                {
                    out.insert(p.key.clone());
                }
                at = None;
            }
            hops += 1;
            if hops > self.streams.len() {
                break;
            }
        }
        out
    }

    /// Every problem the checks find, as (key path, message), in file order.
    fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut say = |path: String, message: String| out.push((path, message));
        let settings: BTreeSet<&str> = self
            .settings
            .keys()
            .map(String::as_str)
            .chain(settings::BUILTIN)
            .collect();
        for name in self.settings.keys() {
            if settings::BUILTIN.contains(&name.as_str()) {
                say(
                    format!("settings.{name}"),
                    "is one of the engine's own settings; pick another name".into(),
                );
            }
        }
        for (i, group) in self.connector.require_any.iter().enumerate() {
            for name in group {
                if !self.settings.contains_key(name) {
                    say(
                        format!("connector.require_any[{i}]"),
                        format!("`{name}` is not a declared setting"),
                    );
                }
            }
        }
        let global_names = |t: &Template| -> Vec<String> {
            t.names()
                .filter(|n| !settings.contains(n) && !ALWAYS.contains(n))
                .map(str::to_owned)
                .collect()
        };
        let mut templates: Vec<(String, &Template)> = vec![
            ("http.base_url".into(), &self.http.base_url),
            ("http.user_agent".into(), &self.http.user_agent),
        ];
        templates.extend(
            self.http
                .headers
                .iter()
                .map(|(k, t)| (format!("http.headers.{k}"), t)),
        );
        templates.extend(
            self.auth
                .templates()
                .into_iter()
                .map(|t| ("auth".into(), t)),
        );
        for (path, t) in templates {
            for n in global_names(t) {
                say(path.clone(), format!("`{{{n}}}` is not a setting"));
            }
        }
        if let Some(p) = &self.partitions {
            for (i, source) in p.sources.iter().enumerate() {
                let path = format!("partitions.sources[{i}]");
                match self.settings.get(source.setting()) {
                    Some(s) if s.kind == settings::SettingType::Array => {}
                    Some(_) => say(
                        format!("{path}.setting"),
                        format!("setting `{}` is not an array", source.setting()),
                    ),
                    None => say(
                        format!("{path}.setting"),
                        format!("`{}` is not a declared setting", source.setting()),
                    ),
                }
                if let PartitionSource::List {
                    path: t,
                    params,
                    field,
                    records,
                    paginator,
                    ..
                } = source
                {
                    for t in std::iter::once(t).chain(params.values()) {
                        for n in global_names(t).into_iter().filter(|n| n != "value") {
                            say(
                                format!("{path}.path"),
                                format!("`{{{n}}}` is not a setting"),
                            );
                        }
                    }
                    pointer(&mut say, &format!("{path}.field"), field, false);
                    pointer(&mut say, &format!("{path}.records"), records, true);
                    for (k, m) in paginator.problems(false) {
                        say(format!("{path}.paginator.{k}"), m);
                    }
                }
            }
        }
        for code in self.on_status.keys() {
            if code.parse::<u16>().is_err() {
                say(
                    format!("on_status.{code}"),
                    format!("`{code}` is not a status code"),
                );
            }
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.streams.iter().enumerate() {
            let at = |k: &str| format!("stream[{i}].{k}");
            if !seen.insert(s.name.as_str()) {
                say(at("name"), format!("stream `{}` is defined twice", s.name));
            }
            self.check_stream(s, &at, &settings, &mut say);
        }
        out
    }

    fn check_stream(
        &self,
        s: &StreamDef,
        at: &dyn Fn(&str) -> String,
        settings: &BTreeSet<&str>,
        say: &mut dyn FnMut(String, String),
    ) {
        if let Some(p) = &s.parent {
            match self.stream(&p.stream) {
                None => say(
                    at("parent.stream"),
                    format!("there is no stream `{}`", p.stream),
                ),
                Some(parent) if parent.name == s.name => say(
                    at("parent.stream"),
                    "a stream cannot be its own parent".into(),
                ),
                Some(_) => {}
            }
            for (name, ptr) in &p.context {
                pointer(say, &at(&format!("parent.context.{name}")), ptr, false);
            }
            if let Some(e) = &p.embedded {
                pointer(say, &at("parent.embedded.records"), &e.records, false);
                if let Some(t) = &e.total {
                    pointer(say, &at("parent.embedded.total"), t, false);
                }
            }
            if !matches!(s.replication, Replication::FullTable) {
                say(
                    at("replication"),
                    "a child stream is read whole for each parent record: use mode = \"full_table\""
                        .into(),
                );
            }
            if s.head.is_some() {
                say(at("head"), "a child stream cannot have a head".into());
            }
            let mut chain = BTreeSet::new();
            let mut cur = Some(s);
            while let Some(c) = cur {
                if !chain.insert(c.name.as_str()) {
                    say(at("parent"), "parents form a cycle".into());
                    break;
                }
                cur = c.parent.as_ref().and_then(|p| self.stream(&p.stream));
            }
        }
        if s.primary_key.is_empty() {
            say(at("primary_key"), "is empty".into());
        }
        for code in s.on_status.keys() {
            if code.parse::<u16>().is_err() {
                say(at("on_status"), format!("`{code}` is not a status code"));
            }
        }
        let context = self.context_fields(s);
        let bookmark_ok = matches!(s.replication, Replication::SinceParam { .. });
        let known = |n: &str, extra: &[&str]| {
            settings.contains(n)
                || context.contains(n)
                || ALWAYS.contains(&n)
                || extra.contains(&n)
                || (n == "bookmark" && bookmark_ok)
        };
        let mut uses_bookmark = false;
        let body_templates: Vec<Template> = match &s.body {
            Some(table) => strings(&toml::Value::Table(table.clone()))
                .into_iter()
                .filter_map(|text| match Template::parse(&text) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        say(at("body"), e.to_string());
                        None
                    }
                })
                .collect(),
            None => vec![],
        };
        for (k, t) in std::iter::once(("path", &s.path))
            .chain(s.params.values().map(|t| ("params", t)))
            .chain(s.headers.values().map(|t| ("headers", t)))
            .chain(body_templates.iter().map(|t| ("body", t)))
        {
            for n in t.names() {
                uses_bookmark |= n == "bookmark";
                if !known(n, &[]) {
                    say(
                        at(k),
                        format!(
                            "`{{{n}}}` is neither a setting nor a context field{}",
                            if n == "bookmark" {
                                " (`{bookmark}` needs mode = \"since_param\")"
                            } else {
                                ""
                            }
                        ),
                    );
                }
            }
        }
        if s.body.is_some() && s.method != stream::Method::POST {
            say(at("body"), "a body needs method = \"POST\"".into());
        }
        pointer(say, &at("records"), &s.records, true);
        for (j, r) in s.remove.iter().enumerate() {
            pointer(say, &at(&format!("remove[{j}]")), r, false);
        }
        for (j, f) in s.filters.iter().enumerate() {
            pointer(
                say,
                &at(&format!("filters[{j}].pointer")),
                &f.pointer,
                false,
            );
        }
        for f in &self.add_fields {
            if let FieldSource::Pointer(p) = &f.from {
                pointer(say, "add_fields", p, false);
            }
        }
        for f in &s.add_fields {
            match &f.from {
                FieldSource::Pointer(p) => pointer(say, &at("add_fields"), p, false),
                FieldSource::Context(c) if !context.contains(c) => say(
                    at("add_fields"),
                    format!("`{c}` is not a context field of stream `{}`", s.name),
                ),
                FieldSource::Context(_) => {}
            }
        }
        if let Some(k) = s.replication_key() {
            pointer(say, &at("replication.key"), k, false);
        }
        match &s.replication {
            Replication::SinceParam {
                reanchor: true,
                order: Order::Descending,
                ..
            } => say(
                at("replication.reanchor"),
                "needs order = \"ascending\"".into(),
            ),
            Replication::SinceParam {
                param: None,
                reanchor,
                ..
            } => {
                if !uses_bookmark {
                    say(
                        at("replication.param"),
                        "give `param`, or place `{bookmark}` in the parameters or the body".into(),
                    );
                }
                if *reanchor {
                    say(
                        at("replication.reanchor"),
                        "needs `param` (the parameter each page is anchored on)".into(),
                    );
                }
            }
            _ => {}
        }
        if let Some(h) = &s.head {
            if !matches!(
                s.replication,
                Replication::SinceParam {
                    order: Order::Descending,
                    param: Some(_),
                    ..
                }
            ) {
                say(
                    at("head"),
                    "needs replication mode since_param with `param` and order = \"descending\""
                        .into(),
                );
            }
            pointer(say, &at("head.pointer"), &h.pointer, false);
            pointer(say, &at("head.records"), &h.records, true);
            pointer(say, &at("head.status"), &h.status, false);
            for t in std::iter::once(&h.path)
                .chain(h.params.values())
                .chain(h.delta_params.values())
            {
                for n in t.names() {
                    if !known(n, &["old", "new"]) {
                        say(at("head"), format!("`{{{n}}}` is not known here"));
                    }
                }
            }
        }
        if let Some(sf) = &s.schema_from {
            pointer(say, &at("schema_from.records"), &sf.records, true);
            pointer(say, &at("schema_from.name"), &sf.name, false);
            pointer(say, &at("schema_from.type"), &sf.kind, false);
            pointer(say, &at("schema_from.into"), &sf.into, false);
        }
        for p in s.paginator.pointers() {
            pointer(say, &at("paginator"), p, false);
        }
        for (k, m) in s.paginator.problems(s.method == stream::Method::POST) {
            say(at(&format!("paginator.{k}")), m);
        }
        if let Replication::SinceParam {
            initial: Some(initial),
            ..
        } = &s.replication
            && crate::time::parse(initial).is_none()
        {
            say(
                at("replication.initial"),
                format!("`{initial}` is not an RFC 3339 date-time"),
            );
        }
        if let Replication::SinceParam { timezone, .. } = &s.replication {
            let key = |k: &str| at(&format!("replication.timezone.{k}"));
            match timezone {
                Zone::Utc => {}
                Zone::Name(n) => {
                    if jiff::tz::TimeZone::get(n).is_err() {
                        say(key("name"), format!("`{n}` is not an IANA time zone"));
                    }
                }
                Zone::Setting(n) => {
                    if !self.settings.contains_key(n) {
                        say(key("setting"), format!("`{n}` is not a declared setting"));
                    }
                }
                Zone::Request { path, pointer: p } => {
                    pointer(say, &key("request.pointer"), p, false);
                    for n in path.names() {
                        if !settings.contains(n) && !ALWAYS.contains(&n) {
                            say(key("request.path"), format!("`{{{n}}}` is not a setting"));
                        }
                    }
                }
            }
        }
    }
}

/// Checks that `p` is a JSON pointer (starts with `/`; empty allowed when `empty_ok`).
fn pointer(say: &mut dyn FnMut(String, String), path: &str, p: &str, empty_ok: bool) {
    if (p.is_empty() && !empty_ok) || (!p.is_empty() && !p.starts_with('/')) {
        say(
            path.to_owned(),
            format!("`{p}` is not a JSON pointer (it starts with /)"),
        );
    }
}

/// Every string inside a TOML value.
fn strings(v: &toml::Value) -> Vec<String> {
    match v {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(items) => items.iter().flat_map(strings).collect(),
        toml::Value::Table(t) => t.values().flat_map(strings).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[connector]
name = "shop"

[settings]
shops = { type = "array", description = "Shops." }
api_url = { type = "string", default = "http://localhost" }

[http]
base_url = "{api_url}"

[partitions]
key = "shop"
sources = [{ kind = "setting", setting = "shops" }]

[[stream]]
name = "orders"
path = "/shops/{shop}/orders"
primary_key = ["id"]
replication = { mode = "since_param", param = "updated_since", key = "/updated", order = "ascending" }
on_status = { "404" = "skip_partition" }
"#;

    #[test]
    fn parses_a_minimal_file() {
        let d = Definitions::parse(MINIMAL, "shop.toml").expect("valid");
        assert_eq!(d.streams[0].paginator, PaginatorDef::default());
        assert_eq!(
            d.action(&d.streams[0], 404),
            Some(StatusAction::SkipPartition)
        );
        assert_eq!(d.action(&d.streams[0], 418), None);
        assert_eq!(d.streams[0].bookmark_name().as_deref(), Some("updated"));
        assert_eq!(
            d.context_fields(&d.streams[0]),
            BTreeSet::from(["shop".to_owned()])
        );
    }

    /// The error of `MINIMAL` with `from` replaced by `to`.
    fn error(from: &str, to: &str) -> DefError {
        let text = MINIMAL.replacen(from, to, 1);
        assert_ne!(text, MINIMAL, "{from} is in the text");
        Definitions::parse(&text, "shop.toml").expect_err("invalid")
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let e = error("primary_key", "primary_keys");
        assert_eq!((e.file.as_str(), e.line), ("shop.toml", 19), "{e}");
        assert!(e.to_string().contains("primary_keys"), "{e}");
        let e = error("skip_partition", "ignore");
        assert_eq!(e.line, 21, "{e}");
        assert!(e.to_string().contains("ignore"), "{e}");
        let e = error("\"/updated\"", "\"updated\"");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (20, Some("stream[0].replication.key")),
            "{e}"
        );
        assert!(e.message.contains("JSON pointer"), "{e}");
        let e = error("{shop}/orders", "{shopp}/orders");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (18, Some("stream[0].path")),
            "{e}"
        );
        let e = error("setting = \"shops\"", "setting = \"shop_list\"");
        assert!(e.message.contains("shop_list"), "{e}");
        assert_eq!(e.line, 14, "{e}");
        let e = error("base_url = \"{api_url}\"", "base_url = \"{api}\"");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (10, Some("http.base_url")),
            "{e}"
        );
        let e = error("api_url = {", "start_date = {");
        assert!(e.message.contains("engine's own"), "{e}");
    }

    #[test]
    fn modes_fit_their_options() {
        let e = error(
            "order = \"ascending\"",
            "order = \"descending\", reanchor = true",
        );
        assert!(e.message.contains("ascending"), "{e}");
        let e = error("param = \"updated_since\", ", "");
        assert!(e.message.contains("{bookmark}"), "{e}");
        let text = MINIMAL.replace("param = \"updated_since\", ", "").replace(
            "primary_key = [\"id\"]",
            "params = { q = 'updated >= \"{bookmark:%Y/%m/%d %H:%M}\"' }\nprimary_key = [\"id\"]",
        );
        assert!(Definitions::parse(&text, "x").is_ok());
        let head = "\n[stream.head]\npointer = \"/id\"\npath = \"/d/{old}...{new}\"\nrecords = \"/items\"\nstatus = \"/status\"\nancestor = [\"ahead\"]\n";
        let e = Definitions::parse(&format!("{MINIMAL}{head}"), "x").expect_err("asc head");
        assert_eq!(e.key.as_deref(), Some("stream[0].head"), "{e}");
        let desc = MINIMAL.replace("ascending", "descending");
        assert!(Definitions::parse(&format!("{desc}{head}"), "x").is_ok());
    }

    #[test]
    fn children_need_a_parent_and_full_table() {
        let child = "\n[[stream]]\nname = \"lines\"\npath = \"/shops/{shop}/orders/{order}/lines\"\nprimary_key = [\"id\"]\nreplication = { mode = \"full_table\" }\nparent = { stream = \"orders\", context = { order = \"/id\" } }\n";
        let d = Definitions::parse(&format!("{MINIMAL}{child}"), "x").expect("valid child");
        assert_eq!(
            d.context_fields(&d.streams[1]),
            BTreeSet::from(["order".to_owned(), "shop".to_owned()])
        );
        let e = Definitions::parse(
            &format!(
                "{MINIMAL}{}",
                child.replace("stream = \"orders\"", "stream = \"nope\"")
            ),
            "x",
        )
        .expect_err("no parent");
        assert!(e.message.contains("nope"), "{e}");
    }
}
