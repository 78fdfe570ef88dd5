//! `--about`: name, version, capabilities and the config schema, as Meltano SDK targets print them.

use serde_json::Value;
use singer::About;

use crate::config::Config;

/// What this target can do, in the Meltano SDK's vocabulary.
pub const CAPABILITIES: [&str; 5] = [
    "about",
    "schema-flattening",
    "validate-records",
    "hard-delete",
    "activate-version",
];

fn about() -> About<'static> {
    About {
        name: "target-postgres",
        description: env!("CARGO_PKG_DESCRIPTION"),
        version: env!("CARGO_PKG_VERSION"),
        capabilities: &CAPABILITIES,
        settings: Config::json_schema(),
        extra: serde_json::Map::new(),
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
