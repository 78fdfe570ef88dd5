//! `--about`: name, version, capabilities and the config schema, as Meltano SDK targets print them.

use serde_json::{Value, json};

use crate::config::Config;

/// What this target can do, in the Meltano SDK's vocabulary.
pub const CAPABILITIES: [&str; 5] = [
    "about",
    "schema-flattening",
    "validate-records",
    "hard-delete",
    "activate-version",
];

/// The `--about` document as JSON.
pub fn about_json() -> Value {
    json!({
        "name": "target-sqlite",
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "version": env!("CARGO_PKG_VERSION"),
        "capabilities": CAPABILITIES,
        "settings": Config::json_schema(),
    })
}

/// The `--about` document as Markdown.
pub fn about_markdown() -> String {
    let schema = Config::json_schema();
    let mut out = format!(
        "# target-sqlite\n\n{}\n\nVersion: {}\n\n## Capabilities\n\n",
        env!("CARGO_PKG_DESCRIPTION"),
        env!("CARGO_PKG_VERSION")
    );
    for c in CAPABILITIES {
        out.push_str(&format!("* `{c}`\n"));
    }
    out.push_str(
        "\n## Settings\n\n| Setting | Required | Default | Description |\n|:--|:--:|:--:|:--|\n",
    );
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        let default = prop.get("default").map_or(String::new(), Value::to_string);
        let description = prop
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .replace('\n', " ");
        let req = if required.contains(&name.as_str()) {
            "True"
        } else {
            "False"
        };
        out.push_str(&format!("| {name} | {req} | {default} | {description} |\n"));
    }
    out
}
