//! A generic, declarative REST stream engine. It knows HTTP, JSON, Singer and the small
//! vocabulary of [`definition`]; it knows nothing of any particular API or stream. An API is a
//! definitions file plus one JSON Schema per stream.
//!
//! # Layout
//! - [`definition`]: the typed vocabulary, read from TOML.
//! - [`http`]: the client (retries, rate limits, conditional requests).
//! - [`paginator`]: following pages, refusing loops.
//! - [`partitions`]: where the partition values come from.
//! - [`bookmarks`]: bookmark arithmetic and partition entries.
//! - [`catalog`]: discovery and selection.
//! - `partition`: one stream × partition, a strategy per replication mode.
//! - [`sync`]: the orchestrator and the single ordered writer.
//! - [`metrics`]: Singer metric lines; [`error`]: errors.

pub mod bookmarks;
pub mod catalog;
pub mod definition;
pub mod error;
pub mod http;
pub mod metrics;
pub mod paginator;
mod partition;
pub mod partitions;
pub mod sync;

use std::collections::BTreeMap;

use serde_json::Value;

pub use definition::Definitions;
pub use error::Error;
pub use http::HttpOptions;
pub use sync::{Lookback, Summary, SyncOptions};

/// Definitions with their schemas, checked against each other.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The stream definitions.
    pub defs: Definitions,
    schemas: BTreeMap<String, Value>,
}

impl Engine {
    /// Pairs definitions with schemas (stream name → JSON Schema text). Every stream needs a
    /// schema that declares its primary key and added fields.
    pub fn new(defs: Definitions, schemas: &[(&str, &str)]) -> Result<Self, Error> {
        let mut parsed = BTreeMap::new();
        for (name, text) in schemas {
            let v: Value = serde_json::from_str(text)
                .map_err(|e| Error::Setup(format!("schema `{name}`: {e}")))?;
            parsed.insert((*name).to_owned(), v);
        }
        for def in &defs.streams {
            let schema = parsed
                .get(&def.name)
                .ok_or_else(|| Error::Setup(format!("stream `{}` has no schema", def.name)))?;
            let props = schema
                .get("properties")
                .and_then(Value::as_object)
                .ok_or_else(|| Error::Setup(format!("schema `{}` has no properties", def.name)))?;
            let added = defs
                .add_fields
                .iter()
                .chain(&def.add_fields)
                .map(|f| &f.name);
            for name in def.primary_key.iter().chain(added) {
                if !props.contains_key(name) {
                    return Err(Error::Setup(format!(
                        "schema `{}` does not declare `{name}`",
                        def.name
                    )));
                }
            }
        }
        Ok(Engine {
            defs,
            schemas: parsed,
        })
    }

    /// The catalog `--discover` prints.
    pub fn discover(&self) -> singer::Catalog {
        singer::Catalog {
            streams: self
                .defs
                .streams
                .iter()
                .map(|d| catalog::entry(d, &self.schemas[&d.name]))
                .collect(),
        }
    }

    /// Syncs the selected streams into `out`.
    pub async fn sync<W: std::io::Write + Send + 'static>(
        &self,
        opts: SyncOptions,
        out: W,
    ) -> Result<Summary, Error> {
        sync::run(&self.defs, &self.schemas, opts, out).await
    }
}
