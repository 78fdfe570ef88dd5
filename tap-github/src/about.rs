//! `--about`: name, version, capabilities, streams and the config schema, as Meltano SDK taps
//! print them.

use serde_json::Value;
use singer::About;

use crate::config::Config;

/// What this tap can do, in the Meltano SDK's vocabulary.
pub const CAPABILITIES: [&str; 5] = ["about", "catalog", "discover", "state", "activate-version"];

fn about() -> About<'static> {
    let streams: Vec<String> = crate::engine()
        .map(|e| e.defs.streams.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    About {
        name: "tap-github",
        description: env!("CARGO_PKG_DESCRIPTION"),
        version: env!("CARGO_PKG_VERSION"),
        capabilities: &CAPABILITIES,
        settings: Config::json_schema(),
        extra: [("streams".to_string(), Value::from(streams))]
            .into_iter()
            .collect(),
    }
}

/// The `--about` document as JSON.
pub fn about_json() -> Value {
    about().to_json()
}

/// The `--about` document as Markdown.
pub fn about_markdown() -> String {
    about().to_markdown()
}
