//! Where a connector's partitions come from: values of a list setting, or the items of a list
//! endpoint for each value of a setting. A partition is one context value (e.g. a project)
//! that fills the streams' templates and keys their bookmarks. Streams with a parent take their
//! partitions from the parent's records instead (see `stream`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::paging::PaginatorDef;
use super::template::Template;

/// What a partition is and where the list of partitions comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionsDef {
    /// Name of the context field that identifies a partition (and fills templates).
    pub key: String,
    /// Sources whose values are concatenated, duplicates dropped (first one wins).
    pub sources: Vec<PartitionSource>,
    /// Duplicates are found ignoring ASCII case (names that the API compares that way).
    #[serde(default)]
    pub case_insensitive: bool,
}

/// One source of partition values.
// Read once from a file: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum PartitionSource {
    /// The values of a list setting, as configured.
    Setting {
        /// Name of the list setting.
        setting: String,
        /// What a 404 for such a partition means (it was named by the user).
        #[serde(default = "fail")]
        missing: Missing,
    },
    /// For each value of a list setting, a paged list endpoint whose items give the values.
    List {
        /// Name of the list setting.
        setting: String,
        /// Path template; `{value}` is the setting's value.
        path: Template,
        /// Query parameters.
        #[serde(default)]
        params: BTreeMap<String, Template>,
        /// Where the items are in each body (a JSON pointer; empty: the body).
        #[serde(default)]
        records: String,
        /// JSON pointer of the partition value inside each item.
        field: String,
        /// How the list is paged.
        #[serde(default)]
        paginator: PaginatorDef,
        /// What a 404 for the list itself means.
        #[serde(default = "fail")]
        missing: Missing,
        /// What a 404 for one of its partitions means (it was discovered, not named).
        #[serde(default = "warn")]
        item_missing: Missing,
    },
}

/// What a 404 for a partition means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// The run fails (after the other partitions), naming it.
    Fail,
    /// A warning, counted in the summary; the partition is skipped.
    Warn,
}

fn fail() -> Missing {
    Missing::Fail
}

fn warn() -> Missing {
    Missing::Warn
}

impl PartitionSource {
    /// The list setting this source reads.
    pub fn setting(&self) -> &str {
        match self {
            PartitionSource::Setting { setting, .. } | PartitionSource::List { setting, .. } => {
                setting
            }
        }
    }
}
