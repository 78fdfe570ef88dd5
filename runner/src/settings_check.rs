//! The tap's and the target's configs checked against the programs' own config schemas
//! ([`crate::about`]) before anything runs: every problem at once, each with its key path in the
//! pipeline file (`tap.config.repositores: unknown setting (did you mean `repositories`?)`).

use std::path::Path;

use serde_json::{Map, Value};

use crate::plan::{Plan, Program};

/// What the check of one program found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Checked against the program's schema.
    AgainstSchema,
    /// The program reports no schema (e.g. a singer-io tap): not checked.
    NoSchema,
}

/// Checks the tap's and the target's configs; `Err` holds every problem, each naming its key.
pub fn check(plan: &Plan) -> Result<[Checked; 2], Vec<String>> {
    let cache = plan.base_dir.join(".tapline").join("about");
    let mut problems = Vec::new();
    let mut one = |program: &Program, section: &str| match schema_of(program, section, &cache) {
        Err(problem) => {
            problems.push(problem);
            Checked::AgainstSchema
        }
        Ok(None) => Checked::NoSchema,
        Ok(Some(schema)) => match against(&program.config, &schema, section) {
            Some(found) => {
                problems.extend(found.iter().map(|p| crate::relay::mask(p, &plan.secrets)));
                Checked::AgainstSchema
            }
            None => Checked::NoSchema,
        },
    };
    let tap = one(&plan.tap, "tap.config");
    let target = one(&plan.target, "target.config");
    if problems.is_empty() {
        Ok([tap, target])
    } else {
        Err(problems)
    }
}

/// The program's config schema: its `settings_schema` file, else its `--about`.
fn schema_of(program: &Program, section: &str, cache: &Path) -> Result<Option<Value>, String> {
    let Some(file) = &program.settings_schema else {
        return Ok(crate::about::settings_schema(
            &program.path,
            &program.args,
            cache,
        ));
    };
    let key = section.replace(".config", ".settings_schema");
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{key}: cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{key}: {} is not JSON: {e}", file.display()))
}

/// The problems of `config` against `schema`, each prefixed with `section` and the key path;
/// `None` when the schema itself is not one a validator takes (some Meltano SDK versions print
/// `null` where a schema belongs): the program's own check is then the only one.
pub fn against(config: &Map<String, Value>, schema: &Value, section: &str) -> Option<Vec<String>> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(
                "{section}: the program's config schema is not usable ({e}); not checked"
            );
            return None;
        }
    };
    let instance = Value::Object(config.clone());
    let mut problems = Vec::new();
    for e in validator.iter_errors(&instance) {
        let key = key_path(section, &e.instance_path().to_string());
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
            e.kind()
        {
            let known = properties_at(schema, &e.schema_path().to_string());
            for k in unexpected {
                problems.push(format!("{key}.{k}: {}", unknown(k, &known)));
            }
            continue;
        }
        problems.push(format!("{key}: {e}"));
    }
    problems.sort();
    problems.dedup();
    Some(problems)
}

/// `tap.config` and a JSON pointer `/repositories/0` → `tap.config.repositories[0]`.
fn key_path(section: &str, pointer: &str) -> String {
    let mut out = section.to_string();
    for part in pointer.split('/').skip(1) {
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            out.push('.');
            out.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

/// The property names of the object schema whose `additionalProperties` failed.
fn properties_at(schema: &Value, schema_path: &str) -> Vec<String> {
    let object = schema_path
        .strip_suffix("/additionalProperties")
        .and_then(|p| schema.pointer(p).or_else(|| p.is_empty().then_some(schema)));
    object
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// "unknown setting", with the closest known name when one is close.
fn unknown(key: &str, known: &[String]) -> String {
    match tap_rest::config::closest_name(key, known.iter().map(String::as_str)) {
        Some(k) => format!("unknown setting (did you mean `{k}`?)"),
        None => "unknown setting".to_string(),
    }
}

/// Whether the state database's folder exists or can be made, and is writable.
pub fn state_writable(state_db: &Path) -> Result<(), String> {
    let dir = state_db.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .and_then(|()| tempfile::tempfile_in(dir).map(drop))
        .map_err(|e| format!("state.database: cannot write in {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "repositories": {"type": "array", "items": {"type": "string"}},
                "batch_size_rows": {"type": "integer"},
                "database": {"type": "string"}
            },
            "required": ["database"]
        })
    }

    #[test]
    fn every_problem_is_named_by_its_key_path() {
        let config = json!({"repositores": ["a/b"], "batch_size_rows": "100", "zzzzzzzz": 1});
        let problems = against(
            config.as_object().expect("object"),
            &schema(),
            "target.config",
        )
        .expect("a usable schema");
        assert_eq!(problems.len(), 4, "{problems:?}");
        let has = |text: &str| problems.iter().any(|p| p.starts_with(text));
        assert!(
            has("target.config.repositores: unknown setting (did you mean `repositories`?)"),
            "{problems:?}"
        );
        assert!(
            has("target.config.zzzzzzzz: unknown setting"),
            "{problems:?}"
        );
        assert!(has("target.config.batch_size_rows: "), "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"database\" is a required property")),
            "{problems:?}"
        );
    }

    #[test]
    fn an_unusable_schema_checks_nothing() {
        let config = json!({"a": 1});
        let schema = json!({"type": "object", "properties": {"a": {"additionalProperties": null}}});
        assert_eq!(
            against(config.as_object().expect("object"), &schema, "tap.config"),
            None
        );
    }

    #[test]
    fn a_valid_config_has_no_problems() {
        let config = json!({"database": "x.db", "repositories": ["a/b"]});
        assert_eq!(
            against(config.as_object().expect("object"), &schema(), "tap.config"),
            Some(vec![])
        );
        let config = json!({"database": "x.db", "repositories": [1]});
        assert_eq!(
            against(config.as_object().expect("object"), &schema(), "tap.config")
                .expect("a usable schema")[0]
                .split(':')
                .next(),
            Some("tap.config.repositories[0]")
        );
    }
}
