//! The `--about` document of a Singer program (name, version, capabilities, settings schema), as
//! the Meltano SDK prints it with `--about --format json|markdown`.

use serde_json::{Map, Value, json};

/// What a tap or target says about itself.
#[derive(Debug, Clone)]
pub struct About<'a> {
    /// Program name, e.g. `tap-github`.
    pub name: &'a str,
    /// One sentence.
    pub description: &'a str,
    /// Version.
    pub version: &'a str,
    /// Meltano SDK capabilities, e.g. `catalog`, `state`.
    pub capabilities: &'a [&'a str],
    /// JSON Schema of the config.
    pub settings: Value,
    /// Further top-level fields (a tap's stream names, say).
    pub extra: Map<String, Value>,
}

impl About<'_> {
    /// The JSON document.
    pub fn to_json(&self) -> Value {
        let mut doc = json!({
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "capabilities": self.capabilities,
            "settings": self.settings,
        });
        if let Some(map) = doc.as_object_mut() {
            map.extend(self.extra.clone());
        }
        doc
    }

    /// The Markdown document: capabilities, then a table of settings.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# {}\n\n{}\n\nVersion: {}\n\n## Capabilities\n\n",
            self.name, self.description, self.version
        );
        for c in self.capabilities {
            out.push_str(&format!("* `{c}`\n"));
        }
        out.push_str("\n## Settings\n\n| Setting | Required | Default | Description |\n|:--|:--:|:--:|:--|\n");
        let required: Vec<&str> = self.settings["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (name, prop) in self.settings["properties"]
            .as_object()
            .into_iter()
            .flatten()
        {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_markdown() {
        let about = About {
            name: "tap-x",
            description: "A tap.",
            version: "1.0.0",
            capabilities: &["catalog", "state"],
            settings: json!({"properties": {"token": {"description": "Secret\nthing", "default": ""}, "n": {}}, "required": ["n"]}),
            extra: [("streams".to_string(), json!(["a"]))]
                .into_iter()
                .collect(),
        };
        let doc = about.to_json();
        assert_eq!(doc["capabilities"], json!(["catalog", "state"]));
        assert_eq!(doc["streams"], json!(["a"]));
        let md = about.to_markdown();
        assert!(md.starts_with("# tap-x\n\nA tap.\n\nVersion: 1.0.0"));
        assert!(md.contains("* `state`\n"));
        assert!(
            md.contains("| token | False | \"\" | Secret thing |"),
            "{md}"
        );
        assert!(md.contains("| n | True |  |  |"), "{md}");
    }
}
