//! `--about`: name, version, capabilities, streams and the config schema, as Meltano SDK taps
//! print them, for any connector.

use serde_json::{Value, json};
use singer::About;

use crate::engine::Engine;

/// What every connector can do, in the Meltano SDK's vocabulary.
pub const CAPABILITIES: [&str; 5] = ["about", "catalog", "discover", "state", "activate-version"];

fn about<'a>(engine: &'a Engine, name: &'a str) -> About<'a> {
    let streams: Vec<Value> = engine
        .defs
        .streams
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "replication": s.replication.key().map_or("full_table", |_| "incremental"),
                "pages": crate::defs::paging::describe_stream(s),
            })
        })
        .collect();
    About {
        name,
        description: &engine.defs.connector.description,
        version: env!("CARGO_PKG_VERSION"),
        capabilities: &CAPABILITIES,
        settings: crate::config::schema(&engine.defs),
        extra: [("streams".to_string(), Value::from(streams))]
            .into_iter()
            .collect(),
    }
}

/// The `--about` document as JSON.
pub fn about_json(engine: &Engine, name: &str) -> Value {
    about(engine, name).to_json()
}

/// The `--about` document as Markdown.
pub fn about_markdown(engine: &Engine, name: &str) -> String {
    about(engine, name).to_markdown()
}
