//! `--about`: name, version, capabilities and the config schema, as Meltano SDK taps print them.

use serde_json::{Value, json};

use crate::config::Config;

/// What this tap can do, in the Meltano SDK's vocabulary.
pub const CAPABILITIES: [&str; 5] = ["about", "catalog", "discover", "state", "activate-version"];

/// The `--about` document as JSON.
pub fn about_json() -> Value {
    json!({
        "name": "tap-github",
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "version": env!("CARGO_PKG_VERSION"),
        "capabilities": CAPABILITIES,
        "streams": crate::engine().map(|e| e.defs.streams.iter().map(|s| s.name.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "settings": Config::json_schema(),
    })
}

/// The `--about` document as Markdown.
pub fn about_markdown() -> String {
    let schema = Config::json_schema();
    let mut out = format!(
        "# tap-github\n\n{}\n\nVersion: {}\n\n## Capabilities\n\n",
        env!("CARGO_PKG_DESCRIPTION"),
        env!("CARGO_PKG_VERSION")
    );
    for c in CAPABILITIES {
        out.push_str(&format!("* `{c}`\n"));
    }
    out.push_str(
        "\n## Settings\n\n| Setting | Required | Default | Description |\n|:--|:--:|:--:|:--|\n",
    );
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        let default = prop.get("default").map_or(String::new(), Value::to_string);
        let description = prop
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .replace('\n', " ");
        out.push_str(&format!("| {name} | False | {default} | {description} |\n"));
    }
    out
}
