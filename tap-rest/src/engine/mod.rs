//! The engine that runs definitions: HTTP, pages, partitions, bookmarks and Singer output. It
//! knows the vocabulary of [`crate::defs`] and nothing of any particular API or stream.
//!
//! # Layout
//! - [`http`]: the client (auth, retries, rate limits, conditional requests); [`budget`]: the
//!   requests in flight it allows, halved on a secondary rate limit.
//! - [`request`]: requests and the scope their templates are filled from.
//! - [`paginator`]: walking pages, refusing loops; `prefetch`: pages known after the first,
//!   fetched ahead of the walk.
//! - [`partitions`]: where the partition values come from.
//! - [`records`]: the record pipeline (select → filter → add fields → shape).
//! - `job`: one stream × partition, a strategy per replication mode; `walk`: its page walk;
//!   `children`: child streams of a parent's page.
//! - [`bookmarks`]: bookmark arithmetic and partition entries.
//! - [`catalog`]: discovery and selection; [`schemas`]: schemas completed from an endpoint.
//! - [`shard`]: which partitions a sharded run takes.
//! - [`sync`]: the orchestrator and the single ordered writer.
//! - [`metrics`]: Singer metric lines; [`error`]: errors.

pub mod bookmarks;
pub mod budget;
pub mod catalog;
mod children;
pub mod error;
pub mod http;
mod job;
pub mod metrics;
pub mod paginator;
pub mod partitions;
mod prefetch;
pub mod records;
pub mod request;
pub mod schemas;
pub mod shard;
pub mod sync;
mod walk;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::defs::{Definitions, FieldSource};
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
    /// Pairs definitions with schemas (stream name → JSON Schema). Every stream needs a schema
    /// that declares its primary key, the fields added to its records and its context fields.
    pub fn new(defs: Definitions, schemas: BTreeMap<String, Value>) -> Result<Self, Error> {
        for def in &defs.streams {
            let schema = schemas
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
                .filter(|f| match &f.from {
                    FieldSource::Context(c) => defs.context_fields(def).contains(c),
                    FieldSource::Pointer(_) => true,
                })
                .map(|f| &f.name);
            let unknown = def.keep_unknown_as.iter();
            for name in def.primary_key.iter().chain(added).chain(unknown) {
                if !props.contains_key(name) {
                    return Err(Error::Setup(format!(
                        "schema `{}` does not declare `{name}`",
                        def.name
                    )));
                }
            }
        }
        Ok(Engine { defs, schemas })
    }

    /// The schema of each stream.
    pub fn schemas(&self) -> &BTreeMap<String, Value> {
        &self.schemas
    }

    /// Whether some stream's schema is completed from an endpoint (see [`Engine::prepare`]).
    pub fn needs_preparing(&self) -> bool {
        self.defs.streams.iter().any(|s| s.schema_from.is_some())
    }

    /// Completes the schemas that list their properties from an endpoint, with the client the
    /// settings make.
    pub async fn prepare(
        &mut self,
        settings: &serde_json::Map<String, Value>,
        http: HttpOptions,
        secrets: Vec<String>,
    ) -> Result<(), Error> {
        let scope = request::Scope {
            settings: settings.clone(),
            ..request::Scope::default()
        }
        .with("version", Value::from(env!("CARGO_PKG_VERSION")));
        let client = http::Client::new(&self.defs, &scope, http, secrets)?;
        schemas::extend(&self.defs, &mut self.schemas, &client, &scope).await
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
