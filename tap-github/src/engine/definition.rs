//! Typed stream definitions, deserialised from a TOML definitions file.
//!
//! The vocabulary is small and closed on purpose: a path template with partition fields, query
//! parameters, extra headers, a record selector, a primary key, a replication mode, a paginator,
//! the partition sources, a status → action map and fields added to each record. No templating
//! language, no expressions: anything the engine cannot do is a parse error, not a surprise.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole definitions file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definitions {
    /// Settings shared by every request.
    pub http: HttpDef,
    /// Where partitions come from and what identifies one.
    pub partitions: PartitionsDef,
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

/// Request settings shared by every stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpDef {
    /// Headers sent with every request (e.g. `Accept`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Scheme of the `Authorization` header when a token is configured (e.g. `Bearer`).
    #[serde(default = "default_auth_scheme")]
    pub auth_scheme: String,
}

fn default_auth_scheme() -> String {
    "Bearer".to_owned()
}

/// What a partition is and where the list of partitions comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionsDef {
    /// Name of the context field that identifies a partition (and fills path templates).
    pub key: String,
    /// Sources whose values are concatenated (duplicates, compared case-insensitively, dropped).
    pub sources: Vec<PartitionSource>,
}

/// One source of partition values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum PartitionSource {
    /// The values of a list setting, as configured.
    Setting {
        /// Name of the list setting.
        setting: String,
    },
    /// For each value of a list setting, a paged list endpoint whose items give the values.
    List {
        /// Name of the list setting.
        setting: String,
        /// Path template; `{value}` is replaced by the setting's value.
        path: String,
        /// Query parameters of the first request.
        #[serde(default)]
        params: BTreeMap<String, String>,
        /// JSON pointer of the partition value inside each item.
        field: String,
    },
}

/// Copies a value into each record under a top-level name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddField {
    /// Top-level field to set.
    pub name: String,
    /// Where the value comes from.
    #[serde(flatten)]
    pub from: FieldSource,
}

/// The origin of an added field.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// A field of the partition context.
    Context(String),
    /// A JSON pointer into the record itself (e.g. `/user/id`).
    Pointer(String),
}

/// What to do with a response status that is neither success nor handled by the HTTP client
/// (retries of 5xx, rate limits, 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    /// Retry with backoff, like a 5xx.
    Retry,
    /// Warn and skip the partition: no records, no bookmark change.
    SkipPartition,
    /// Treat as a successful response with no records.
    Empty,
    /// Stop the run with an error.
    Fail,
}

/// One stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDef {
    /// Stream name, as in messages and the catalog; also the name of its schema file.
    pub name: String,
    /// Path template relative to the API base; `{<partition key>}` is the partition's value.
    pub path: String,
    /// Query parameters of the first request (later pages follow the paginator verbatim).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Extra headers for this stream's requests.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON pointer of the records in the body; empty means the body itself (an array gives
    /// one record per item, an object one record).
    #[serde(default)]
    pub records: String,
    /// Properties that identify a record.
    pub primary_key: Vec<String>,
    /// How the stream is replicated.
    pub replication: Replication,
    /// How pages follow each other.
    #[serde(default)]
    pub paginator: Paginator,
    /// Fields added to each record, after the file-wide ones.
    #[serde(default)]
    pub add_fields: Vec<AddField>,
    /// Status → action entries for this stream.
    #[serde(default)]
    pub on_status: BTreeMap<String, StatusAction>,
    /// Relative cost of one partition, to start the longest work first (default 1).
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Exact increments from a bookmarked head marker instead of dates (see [`HeadDef`]).
    #[serde(default)]
    pub head: Option<HeadDef>,
}

/// Exact increments for a list whose first record is its head (newest first, e.g. the history of a
/// branch): a run bookmarks the head marker and the next run asks a delta endpoint for what is
/// new since it, independent of dates. A probe request on the stream's path tells whether the
/// head moved (its ETag makes an unchanged head one 304). When the delta endpoint refuses, or
/// says the old head is no longer an ancestor, the run falls back to the replication parameter
/// from the bookmark minus the stream's lookback, and says so.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadDef {
    /// Query parameters of the probe, over the stream's own (the replication parameter is left
    /// out), e.g. `per_page = "1"`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// JSON pointer of the head marker inside the probe's first record (e.g. `/sha`).
    pub pointer: String,
    /// Path template of the delta request: the partition key, `{old}` (the bookmarked head) and
    /// `{new}` (the probed head).
    pub path: String,
    /// Query parameters of the delta request.
    #[serde(default)]
    pub delta_params: BTreeMap<String, String>,
    /// JSON pointer of the records inside a delta response (e.g. `/items`).
    pub records: String,
    /// JSON pointer of the comparison status inside a delta response (e.g. `/status`).
    pub status: String,
    /// Status values meaning the old head is an ancestor of the new one.
    pub ancestor: Vec<String>,
}

fn default_weight() -> u32 {
    1
}

/// A stream's replication mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "mode", rename_all = "snake_case")]
pub enum Replication {
    /// Every record every run; the run ends with ACTIVATE_VERSION so the target drops rows
    /// that disappeared.
    FullTable,
    /// The API filters with a request parameter set to `bookmark − lookback` (inclusive).
    SinceParam {
        /// The request parameter (e.g. `since`).
        param: String,
        /// JSON pointer of the replication key inside a record.
        key: String,
        /// The order of the list on that key.
        order: Order,
        /// Ascending lists only: request each next page from the last value seen (the parameter
        /// set to it, inclusive; records already emitted at that value are dropped by key)
        /// instead of following the paginator, so that items moving to the end while the list
        /// is paged cannot shift one out of reach.
        #[serde(default)]
        reanchor: bool,
        /// Seconds subtracted from the bookmark on each run (default 0); the configuration can
        /// raise it.
        #[serde(default)]
        lookback_s: u64,
    },
    /// The list is sorted newest first and has no filter: stop at the first record older than
    /// the bookmark minus the lookback.
    EarlyStop {
        /// JSON pointer of the replication key inside a record.
        key: String,
        /// Seconds subtracted from the bookmark on each run (default 0).
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

/// How the next page is found. A closed set: add a variant here, never a per-stream hook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paginator {
    /// `Link: <url>; rel="next"`, followed verbatim.
    #[default]
    LinkHeader,
    /// One request only.
    None,
}

impl Definitions {
    /// Parses a TOML definitions file; errors name the offending key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let defs: Definitions = toml::from_str(text).map_err(|e| e.to_string())?;
        defs.check()?;
        Ok(defs)
    }

    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.streams {
            if !seen.insert(s.name.as_str()) {
                return Err(format!("stream `{}` is defined twice", s.name));
            }
            if s.primary_key.is_empty() {
                return Err(format!("stream `{}`: primary_key is empty", s.name));
            }
            for code in s.on_status.keys().chain(self.on_status.keys()) {
                if code.parse::<u16>().is_err() {
                    return Err(format!(
                        "stream `{}`: `{code}` is not a status code",
                        s.name
                    ));
                }
            }
            let pointers =
                s.add_fields
                    .iter()
                    .chain(&self.add_fields)
                    .filter_map(|f| match &f.from {
                        FieldSource::Pointer(p) => Some(p.as_str()),
                        FieldSource::Context(_) => None,
                    });
            if let Replication::SinceParam {
                reanchor: true,
                order: Order::Descending,
                ..
            } = s.replication
            {
                return Err(format!(
                    "stream `{}`: reanchor needs order = \"ascending\"",
                    s.name
                ));
            }
            let head = s
                .head
                .as_ref()
                .map(|h| [h.pointer.as_str(), h.records.as_str(), h.status.as_str()]);
            if s.head.is_some()
                && !matches!(
                    s.replication,
                    Replication::SinceParam {
                        order: Order::Descending,
                        ..
                    }
                )
            {
                return Err(format!(
                    "stream `{}`: head needs replication mode since_param with order = \"descending\"",
                    s.name
                ));
            }
            for p in pointers
                .chain(s.replication_key())
                .chain((!s.records.is_empty()).then_some(s.records.as_str()))
                .chain(head.into_iter().flatten())
            {
                if !p.starts_with('/') {
                    return Err(format!(
                        "stream `{}`: `{p}` is not a JSON pointer (starts with /)",
                        s.name
                    ));
                }
            }
        }
        Ok(())
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
}

impl StreamDef {
    /// The replication key pointer, for incremental streams.
    pub fn replication_key(&self) -> Option<&str> {
        match &self.replication {
            Replication::SinceParam { key, .. } | Replication::EarlyStop { key, .. } => Some(key),
            Replication::FullTable => None,
        }
    }

    /// The lookback the definitions give this stream (zero for full-table streams).
    pub fn lookback(&self) -> std::time::Duration {
        let secs = match &self.replication {
            Replication::SinceParam { lookback_s, .. }
            | Replication::EarlyStop { lookback_s, .. } => *lookback_s,
            Replication::FullTable => 0,
        };
        std::time::Duration::from_secs(secs)
    }

    /// The replication key as a bookmark name: the pointer without its leading `/`, with `.`
    /// between levels (`/commit/committer/date` → `commit.committer.date`).
    pub fn bookmark_name(&self) -> Option<String> {
        self.replication_key()
            .map(|k| k.trim_start_matches('/').replace('/', "."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [http]
        headers = { Accept = "application/json" }
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
        let d = Definitions::parse(MINIMAL).expect("valid");
        assert_eq!(d.streams[0].paginator, Paginator::LinkHeader);
        assert_eq!(
            d.action(&d.streams[0], 404),
            Some(StatusAction::SkipPartition)
        );
        assert_eq!(d.action(&d.streams[0], 418), None);
        assert_eq!(d.streams[0].bookmark_name().as_deref(), Some("updated"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = Definitions::parse(&MINIMAL.replace("primary_key", "primary_keys"))
            .expect_err("unknown");
        assert!(e.contains("primary_keys"), "{e}");
        let e = Definitions::parse(&MINIMAL.replace("skip_partition", "ignore"))
            .expect_err("bad action");
        assert!(e.contains("ignore"), "{e}");
        let e = Definitions::parse(&MINIMAL.replace("\"/updated\"", "\"updated\""))
            .expect_err("pointer");
        assert!(e.contains("JSON pointer"), "{e}");
    }

    #[test]
    fn reanchoring_and_heads_fit_their_order_only() {
        let reanchored = MINIMAL.replace(
            "order = \"ascending\"",
            "order = \"ascending\", reanchor = true",
        );
        assert!(Definitions::parse(&reanchored).is_ok());
        let e = Definitions::parse(&reanchored.replace("ascending", "descending"))
            .expect_err("descending");
        assert!(e.contains("reanchor"), "{e}");
        let head = "\n[stream.head]\npointer = \"/id\"\npath = \"/d/{old}...{new}\"\nrecords = \"/items\"\nstatus = \"/status\"\nancestor = [\"ahead\"]\n";
        let e = Definitions::parse(&format!("{MINIMAL}{head}")).expect_err("ascending head");
        assert!(e.contains("head needs"), "{e}");
        let d = Definitions::parse(&format!(
            "{}{head}",
            MINIMAL.replace("ascending", "descending")
        ))
        .expect("a descending head");
        assert!(d.streams[0].head.is_some());
        let e = Definitions::parse(&format!(
            "{}{}",
            MINIMAL.replace("ascending", "descending"),
            head.replace("\"/status\"", "\"status\"")
        ))
        .expect_err("pointer");
        assert!(e.contains("JSON pointer"), "{e}");
    }
}
