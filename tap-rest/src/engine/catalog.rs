//! Discovery (definitions + schemas → a Singer catalog) and selection (catalog → the streams to
//! sync and the fields to drop).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use singer::catalog::Inclusion;
use singer::{Catalog, CatalogEntry, Metadata, MetadataEntry, ReplicationMethod};

use crate::defs::{Replication, StreamDef};

/// The catalog entry of one stream.
pub fn entry(def: &StreamDef, schema: &Value) -> CatalogEntry {
    let top_level_key = def
        .replication_key()
        .map(|k| k.trim_start_matches('/'))
        .filter(|k| !k.contains('/'))
        .map(str::to_owned);
    let method = match def.replication {
        Replication::FullTable => ReplicationMethod::FullTable,
        _ => ReplicationMethod::Incremental,
    };
    let mut metadata = vec![MetadataEntry {
        breadcrumb: vec![],
        metadata: Metadata {
            selected_by_default: Some(true),
            inclusion: Some(Inclusion::Available),
            forced_replication_method: Some(method),
            replication_key: top_level_key.clone(),
            table_key_properties: Some(def.primary_key.clone()),
            valid_replication_keys: top_level_key.clone().map(|k| vec![k]),
            ..Metadata::default()
        },
    }];
    for name in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        let automatic = def.primary_key.contains(name) || top_level_key.as_ref() == Some(name);
        metadata.push(MetadataEntry {
            breadcrumb: vec!["properties".into(), name.clone()],
            metadata: Metadata {
                inclusion: Some(if automatic {
                    Inclusion::Automatic
                } else {
                    Inclusion::Available
                }),
                selected_by_default: Some(true),
                ..Metadata::default()
            },
        });
    }
    CatalogEntry {
        tap_stream_id: def.name.clone(),
        stream: def.name.clone(),
        schema: schema.clone(),
        key_properties: Some(def.primary_key.clone()),
        table_name: None,
        metadata,
        extra: Map::new(),
    }
}

/// What the catalog selects: stream names → top-level fields to drop. Without a catalog, every
/// stream with every field. Streams the catalog names but the definitions lack are reported.
pub fn selection(
    catalog: Option<&Catalog>,
    defs: &[StreamDef],
) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let Some(catalog) = catalog else {
        return (
            defs.iter()
                .map(|d| (d.name.clone(), BTreeSet::new()))
                .collect(),
            vec![],
        );
    };
    let unknown = catalog
        .streams
        .iter()
        .filter(|e| {
            !defs
                .iter()
                .any(|d| d.name == e.tap_stream_id || d.name == e.stream)
        })
        .map(|e| e.tap_stream_id.clone())
        .collect();
    let selected = defs
        .iter()
        .filter_map(|d| {
            let e = catalog.stream(&d.name).filter(|e| e.is_selected())?;
            let drop = e
                .metadata
                .iter()
                .filter_map(|m| match m.breadcrumb.as_slice() {
                    [p, name]
                        if p == "properties"
                            && !e.is_property_selected(name)
                            && !d.primary_key.contains(name) =>
                    {
                        Some(name.clone())
                    }
                    _ => None,
                });
            Some((d.name.clone(), drop.collect()))
        })
        .collect();
    (selected, unknown)
}

/// `schema` without the dropped top-level properties.
pub fn trimmed(schema: &Value, drop: &BTreeSet<String>) -> Value {
    let mut s = schema.clone();
    if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
        props.retain(|k, _| !drop.contains(k));
    }
    s
}
