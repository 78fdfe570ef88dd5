//! The Singer catalog: streams, their schemas and breadcrumb metadata (selection, replication).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A catalog as printed by `--discover` and read from `--catalog`/`--properties`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// One entry per stream.
    pub streams: Vec<CatalogEntry>,
}

/// One stream of a catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// Identifier the tap uses for the stream.
    pub tap_stream_id: String,
    /// Stream name as it appears in messages.
    pub stream: String,
    /// JSON Schema of the records.
    pub schema: Value,
    /// Key properties, as older taps put them at the top level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_properties: Option<Vec<String>>,
    /// Destination table name, if the tap suggests one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// Breadcrumb metadata.
    #[serde(default)]
    pub metadata: Vec<MetadataEntry>,
    /// Fields this crate does not model, kept so a catalog round-trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Metadata for one breadcrumb: `[]` is the stream, `["properties", name]` a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataEntry {
    /// Path to the node the metadata is about.
    pub breadcrumb: Vec<String>,
    /// The metadata itself.
    pub metadata: Metadata,
}

/// Whether a field is always, maybe, or never synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inclusion {
    /// Always synced (keys, replication keys).
    Automatic,
    /// Synced when selected.
    Available,
    /// Never synced.
    Unsupported,
}

/// How a stream is replicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReplicationMethod {
    /// Only records changed since the bookmark.
    Incremental,
    /// Every record, every run.
    FullTable,
    /// From a change log.
    LogBased,
}

/// The metadata keys Singer defines, plus any others, kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Metadata {
    /// Whether the user selected this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<bool>,
    /// Whether the tap selects this node when the user says nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_by_default: Option<bool>,
    /// Whether the node can be deselected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion: Option<Inclusion>,
    /// Replication method chosen by the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_method: Option<ReplicationMethod>,
    /// Replication method the tap imposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_replication_method: Option<ReplicationMethod>,
    /// Property the stream is bookmarked on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key: Option<String>,
    /// Key properties of the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_key_properties: Option<Vec<String>>,
    /// Properties the stream could be bookmarked on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_replication_keys: Option<Vec<String>>,
    /// Other keys, kept so a catalog round-trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Catalog {
    /// The entry whose `tap_stream_id` or `stream` is `name`.
    pub fn stream(&self, name: &str) -> Option<&CatalogEntry> {
        self.streams
            .iter()
            .find(|s| s.tap_stream_id == name || s.stream == name)
    }

    /// Marks exactly the named streams selected (and every other one deselected).
    /// Returns the names that matched no stream.
    pub fn select_only<'a>(&mut self, names: &[&'a str]) -> Vec<&'a str> {
        for entry in &mut self.streams {
            let wanted = names
                .iter()
                .any(|n| *n == entry.tap_stream_id || *n == entry.stream);
            entry.stream_metadata_mut().selected = Some(wanted);
        }
        names
            .iter()
            .copied()
            .filter(|n| self.stream(n).is_none())
            .collect()
    }

    /// The streams that will be synced.
    pub fn selected(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.streams.iter().filter(|s| s.is_selected())
    }
}

impl CatalogEntry {
    /// Metadata at `breadcrumb`, if any.
    pub fn metadata_at(&self, breadcrumb: &[&str]) -> Option<&Metadata> {
        self.metadata
            .iter()
            .find(|m| {
                m.breadcrumb
                    .iter()
                    .map(String::as_str)
                    .eq(breadcrumb.iter().copied())
            })
            .map(|m| &m.metadata)
    }

    /// Stream-level metadata (breadcrumb `[]`), created if absent.
    pub fn stream_metadata_mut(&mut self) -> &mut Metadata {
        let at = match self.metadata.iter().position(|m| m.breadcrumb.is_empty()) {
            Some(i) => i,
            None => {
                self.metadata.push(MetadataEntry {
                    breadcrumb: vec![],
                    metadata: Metadata::default(),
                });
                self.metadata.len() - 1
            }
        };
        &mut self.metadata[at].metadata
    }

    /// Whether the stream is selected: `selected`, else `selected-by-default`, else the legacy
    /// `"selected": true` inside the schema.
    pub fn is_selected(&self) -> bool {
        let legacy = self.schema.get("selected").and_then(Value::as_bool);
        self.metadata_at(&[])
            .and_then(|m| m.selected.or(m.selected_by_default))
            .or(legacy)
            .unwrap_or(false)
    }

    /// Whether the top-level property `name` is selected. Automatic fields always are; a field
    /// without metadata follows its stream.
    pub fn is_property_selected(&self, name: &str) -> bool {
        match self.metadata_at(&["properties", name]) {
            Some(m) if m.inclusion == Some(Inclusion::Automatic) => true,
            Some(m) if m.inclusion == Some(Inclusion::Unsupported) => false,
            Some(m) => m.selected.or(m.selected_by_default).unwrap_or(true),
            None => true,
        }
    }

    /// Key properties from the stream metadata, else from the top-level field.
    pub fn key_properties(&self) -> Vec<String> {
        self.metadata_at(&[])
            .and_then(|m| m.table_key_properties.clone())
            .or_else(|| self.key_properties.clone())
            .unwrap_or_default()
    }

    /// Replication key from the stream metadata.
    pub fn replication_key(&self) -> Option<&str> {
        self.metadata_at(&[])
            .and_then(|m| m.replication_key.as_deref())
    }

    /// Replication method: the user's choice, else the tap's forced one.
    pub fn replication_method(&self) -> Option<ReplicationMethod> {
        self.metadata_at(&[])
            .and_then(|m| m.replication_method.or(m.forced_replication_method))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        serde_json::from_value(json!({"streams": [
            {"tap_stream_id": "commits", "stream": "commits",
             "schema": {"type": "object", "properties": {"sha": {"type": "string"}, "email": {"type": "string"}}},
             "metadata": [
                {"breadcrumb": [], "metadata": {"selected-by-default": true, "table-key-properties": ["sha"],
                  "forced-replication-method": "INCREMENTAL", "replication-key": "date", "valid-replication-keys": ["date"], "x-custom": 1}},
                {"breadcrumb": ["properties", "sha"], "metadata": {"inclusion": "automatic", "selected": false}},
                {"breadcrumb": ["properties", "email"], "metadata": {"inclusion": "available", "selected": false}}
             ]},
            {"tap_stream_id": "issues", "stream": "issues", "schema": {"selected": true}, "key_properties": ["id"]}
        ]}))
        .expect("valid catalog")
    }

    #[test]
    fn reads_selection_and_replication() {
        let c = catalog();
        let commits = c.stream("commits").expect("present");
        assert!(commits.is_selected());
        assert!(
            commits.is_property_selected("sha"),
            "automatic wins over selected=false"
        );
        assert!(!commits.is_property_selected("email"));
        assert!(commits.is_property_selected("unknown"));
        assert_eq!(commits.key_properties(), vec!["sha"]);
        assert_eq!(commits.replication_key(), Some("date"));
        assert_eq!(
            commits.replication_method(),
            Some(ReplicationMethod::Incremental)
        );
        let issues = c.stream("issues").expect("present");
        assert!(issues.is_selected(), "legacy schema-level selected");
        assert_eq!(issues.key_properties(), vec!["id"]);
    }

    #[test]
    fn select_only_marks_and_reports_unknown_names() {
        let mut c = catalog();
        assert_eq!(c.select_only(&["issues", "nope"]), vec!["nope"]);
        let names: Vec<_> = c.selected().map(|s| s.stream.as_str()).collect();
        assert_eq!(names, vec!["issues"]);
    }

    #[test]
    fn round_trips_unknown_keys() {
        let c = catalog();
        let text = serde_json::to_value(&c).expect("serialises");
        assert_eq!(
            text["streams"][0]["metadata"][0]["metadata"]["x-custom"],
            json!(1)
        );
        let again: Catalog = serde_json::from_value(text).expect("parses");
        assert_eq!(again, c);
    }
}
