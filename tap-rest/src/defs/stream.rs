//! One stream: its request (method, path, parameters, headers, body), where its records are and
//! which to keep, its key, its replication, its paginator, its schema, and its parent.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::paging::PaginatorDef;
use super::template::Template;
use super::{AddField, StatusAction};

/// One stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDef {
    /// Stream name, as in messages and the catalog.
    pub name: String,
    /// `GET` (default) or `POST`.
    #[serde(default)]
    pub method: Method,
    /// Path template relative to the API base.
    pub path: Template,
    /// Query parameters (templates).
    #[serde(default)]
    pub params: BTreeMap<String, Template>,
    /// Extra headers (templates).
    #[serde(default)]
    pub headers: BTreeMap<String, Template>,
    /// A JSON body for `POST`; its string values are templates.
    #[serde(default)]
    pub body: Option<toml::Table>,
    /// JSON pointer of the records in the body; empty means the body itself (an array gives
    /// one record per item, an object one record).
    #[serde(default)]
    pub records: String,
    /// Records to keep: every filter must hold.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Properties that identify a record.
    pub primary_key: Vec<String>,
    /// How the stream is replicated.
    pub replication: Replication,
    /// How pages follow each other.
    #[serde(default)]
    pub paginator: PaginatorDef,
    /// Fields added to each record, after the file-wide ones.
    #[serde(default)]
    pub add_fields: Vec<AddField>,
    /// Status → action entries for this stream.
    #[serde(default)]
    pub on_status: BTreeMap<String, StatusAction>,
    /// Relative cost of one partition, to start the longest work first (default 1).
    #[serde(default = "one")]
    pub weight: u32,
    /// Send the kept ETag as `If-None-Match` (default: the file's `[http] conditional`).
    #[serde(default)]
    pub conditional: Option<bool>,
    /// Exact increments from a bookmarked head marker (see [`HeadDef`]).
    #[serde(default)]
    pub head: Option<HeadDef>,
    /// The stream reads one list per record of another stream.
    #[serde(default)]
    pub parent: Option<ParentDef>,
    /// `false`: the stream is not partitioned (one request series for the whole API).
    #[serde(default = "yes")]
    pub partitioned: bool,
    /// The JSON Schema: a file (relative to the definitions file) or inline; default
    /// `<schemas>/<name>.json` with the connector's schema folder.
    #[serde(default)]
    pub schema: Option<SchemaDef>,
    /// Properties added to the schema from an endpoint (e.g. an API's custom fields).
    #[serde(default)]
    pub schema_from: Option<SchemaFrom>,
    /// Top-level record fields the schema does not declare: dropped (default) or kept together
    /// as one JSON object under this name.
    #[serde(default)]
    pub keep_unknown_as: Option<String>,
    /// JSON pointers removed from each record before it is written (child streams still see
    /// them, e.g. a list a child takes with `parent.embedded`).
    #[serde(default)]
    pub remove: Vec<String>,
}

/// HTTP methods a stream can use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Method {
    /// `GET`.
    #[default]
    #[serde(alias = "get")]
    GET,
    /// `POST` with a JSON body.
    #[serde(alias = "post")]
    POST,
}

/// A condition on a record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// JSON pointer of the field.
    pub pointer: String,
    /// The field must (true) or must not (false) be present and non-null.
    #[serde(default)]
    pub present: Option<bool>,
    /// The field must equal this.
    #[serde(default)]
    pub equals: Option<toml::Value>,
    /// The field must not equal this.
    #[serde(default)]
    pub not_equals: Option<toml::Value>,
    /// The field must be one of these.
    #[serde(default)]
    pub one_of: Option<Vec<toml::Value>>,
}

/// A stream's replication.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, tag = "mode", rename_all = "snake_case")]
pub enum Replication {
    /// Every record every run; the run ends with ACTIVATE_VERSION so the target drops rows
    /// that disappeared. A child stream (one with a parent) reads every record of each parent
    /// read in the run, without ACTIVATE_VERSION.
    FullTable,
    /// The API filters on the replication key from the bookmark minus the lookback (else the
    /// start date), inclusive: through `param`, or through `{bookmark}` placeholders in the
    /// parameters or body (in `format` and `timezone`).
    SinceParam {
        /// The request parameter (e.g. `since`); none when the templates place the bookmark.
        #[serde(default)]
        param: Option<String>,
        /// JSON pointer of the replication key inside a record.
        key: String,
        /// The order of the list on that key.
        order: Order,
        /// Ascending lists only: request each next page from the last value seen (inclusive;
        /// records already emitted at that value are dropped by key) instead of following the
        /// paginator, so that items moving to the end while the list is paged cannot shift one
        /// out of reach.
        #[serde(default)]
        reanchor: bool,
        /// Seconds subtracted from the bookmark on each run (the configuration can raise it).
        #[serde(default)]
        lookback_s: u64,
        /// A parameter set to the run's start, so that the bookmark never passes it.
        #[serde(default)]
        end_param: Option<String>,
        /// The zone `{bookmark:%…}` placeholders are written in.
        #[serde(default)]
        timezone: Zone,
        /// The since value of a run with neither a bookmark nor a start date (an RFC 3339
        /// date-time), for an API that refuses a request without the filter.
        #[serde(default)]
        initial: Option<String>,
    },
    /// The list is sorted newest first and has no filter: stop at the first record older than
    /// the bookmark minus the lookback.
    EarlyStop {
        /// JSON pointer of the replication key inside a record.
        key: String,
        /// Seconds subtracted from the bookmark on each run.
        #[serde(default)]
        lookback_s: u64,
    },
    /// The API cannot filter: every page is read and records older than the bookmark minus
    /// the lookback are dropped here.
    ClientFilter {
        /// JSON pointer of the replication key inside a record.
        key: String,
        /// Seconds subtracted from the bookmark on each run.
        #[serde(default)]
        lookback_s: u64,
    },
}

/// Order of a list on its replication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Oldest first: the bookmark may advance page by page.
    Ascending,
    /// Newest first: the bookmark is written when the partition is complete.
    Descending,
}

/// A time zone for bookmark placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Zone {
    /// UTC.
    #[default]
    Utc,
    /// An IANA zone named by a setting (e.g. the account's zone).
    Setting(String),
    /// An IANA zone read from a response, once per run.
    Request {
        /// Path of the request.
        path: Template,
        /// JSON pointer of the zone's name in the body.
        pointer: String,
    },
    /// A fixed IANA zone.
    Name(String),
}

/// Exact increments for a list whose first record is its head (newest first, e.g. the history
/// of a branch): a run bookmarks the head marker and the next run asks a delta endpoint for
/// what is new since it, independent of dates. A probe request on the stream's path tells
/// whether the head moved (its ETag makes an unchanged head one 304). When the delta endpoint
/// refuses, or says the old head is no longer an ancestor, the run falls back to the
/// replication parameter from the bookmark minus the stream's lookback, and says so.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadDef {
    /// Query parameters of the probe, over the stream's own (the replication parameter is left
    /// out), e.g. `limit = "1"`.
    #[serde(default)]
    pub params: BTreeMap<String, Template>,
    /// JSON pointer of the head marker inside the probe's first record (e.g. `/sha`).
    pub pointer: String,
    /// Path template of the delta request: the context, `{old}` (the bookmarked head) and
    /// `{new}` (the probed head).
    pub path: Template,
    /// Query parameters of the delta request.
    #[serde(default)]
    pub delta_params: BTreeMap<String, Template>,
    /// JSON pointer of the records inside a delta response (e.g. `/items`).
    pub records: String,
    /// JSON pointer of the comparison status inside a delta response (e.g. `/status`).
    pub status: String,
    /// Status values meaning the old head is an ancestor of the new one.
    pub ancestor: Vec<String>,
}

/// A parent stream: one list of this stream per parent record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentDef {
    /// The parent stream's name.
    pub stream: String,
    /// Context fields taken from each parent record (name → JSON pointer); they fill this
    /// stream's templates, and `add_fields` with `context = "name"` puts them in its records.
    pub context: BTreeMap<String, String>,
    /// The parent record may hold this stream's list: when it is there and complete, its items
    /// are the records, with no request.
    #[serde(default)]
    pub embedded: Option<Embedded>,
}

/// A child's list inside its parent record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embedded {
    /// JSON pointer of the list in the parent record.
    pub records: String,
    /// JSON pointer of the number of items the whole list has; the embedded list is used only
    /// when it holds that many (else the list is requested). None: an embedded list is whole.
    #[serde(default)]
    pub total: Option<String>,
}

impl Embedded {
    /// The items of the complete list `parent` holds, if it holds one.
    pub fn items<'v>(&self, parent: &'v Value) -> Option<&'v Vec<Value>> {
        let items = parent.pointer(&self.records)?.as_array()?;
        match &self.total {
            None => Some(items),
            Some(t) => (parent.pointer(t)?.as_u64()? == items.len() as u64).then_some(items),
        }
    }
}

/// Where a stream's schema comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum SchemaDef {
    /// A JSON Schema file, relative to the definitions file.
    File(String),
    /// The schema itself, inline.
    Inline(toml::Table),
}

/// Properties discovered from an endpoint and added to a stream's schema.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFrom {
    /// Path of the request.
    pub path: Template,
    /// Where the items are (a JSON pointer; empty: the body).
    #[serde(default)]
    pub records: String,
    /// JSON pointer of the property name in each item.
    pub name: String,
    /// JSON pointer of the API's type name in each item.
    #[serde(rename = "type")]
    pub kind: String,
    /// API type name → JSON Schema type (`string`, `number`, `integer`, `boolean`, `array`,
    /// `object`, `date-time`); other names become any JSON.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// JSON pointer inside the schema of the object whose properties receive them (e.g.
    /// `/properties/fields`).
    pub into: String,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

impl Replication {
    /// The replication key pointer, for incremental streams.
    pub fn key(&self) -> Option<&str> {
        match self {
            Replication::SinceParam { key, .. }
            | Replication::EarlyStop { key, .. }
            | Replication::ClientFilter { key, .. } => Some(key),
            Replication::FullTable => None,
        }
    }

    /// The since value of a run with neither a bookmark nor a start date, if the definitions
    /// give one.
    pub fn initial(&self) -> Option<&str> {
        match self {
            Replication::SinceParam { initial, .. } => initial.as_deref(),
            _ => None,
        }
    }

    /// The lookback the definitions give (zero for full-table streams).
    pub fn lookback(&self) -> Duration {
        let secs = match self {
            Replication::SinceParam { lookback_s, .. }
            | Replication::EarlyStop { lookback_s, .. }
            | Replication::ClientFilter { lookback_s, .. } => *lookback_s,
            Replication::FullTable => 0,
        };
        Duration::from_secs(secs)
    }
}

impl StreamDef {
    /// The replication key pointer, for incremental streams.
    pub fn replication_key(&self) -> Option<&str> {
        self.replication.key()
    }

    /// The lookback the definitions give this stream.
    pub fn lookback(&self) -> Duration {
        self.replication.lookback()
    }

    /// The replication key as a bookmark name: the pointer without its leading `/`, with `.`
    /// between levels (`/meta/changed/at` → `meta.changed.at`).
    pub fn bookmark_name(&self) -> Option<String> {
        self.replication_key()
            .map(|k| k.trim_start_matches('/').replace('/', "."))
    }

    /// Whether the stream keeps bookmarks.
    pub fn incremental(&self) -> bool {
        self.replication_key().is_some() && self.parent.is_none()
    }

    /// Every template of the stream's request.
    pub fn templates(&self) -> Vec<&Template> {
        let mut t: Vec<&Template> = vec![&self.path];
        t.extend(self.params.values());
        t.extend(self.headers.values());
        t
    }

    /// The JSON body with its string values filled by `fill`; a value `fill` gives nothing
    /// for is left out (its field, or its item of a list).
    pub fn body_with(
        &self,
        fill: &mut dyn FnMut(&Template) -> Result<Option<String>, super::template::TemplateError>,
    ) -> Result<Option<Value>, String> {
        let Some(table) = &self.body else {
            return Ok(None);
        };
        let value = serde_json::to_value(table).map_err(|e| e.to_string())?;
        fill_strings(value, fill)
    }
}

fn fill_strings(
    value: Value,
    fill: &mut dyn FnMut(&Template) -> Result<Option<String>, super::template::TemplateError>,
) -> Result<Option<Value>, String> {
    Ok(Some(match value {
        Value::String(s) => {
            let t = Template::parse(&s).map_err(|e| e.to_string())?;
            match fill(&t).map_err(|e| e.to_string())? {
                Some(text) => Value::String(text),
                None => return Ok(None),
            }
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for v in items {
                out.extend(fill_strings(v, fill)?);
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                if let Some(v) = fill_strings(v, fill)? {
                    out.insert(k, v);
                }
            }
            Value::Object(out)
        }
        other => other,
    }))
}
