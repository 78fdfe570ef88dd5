//! Records against their stream's schema: each record validated (JSON path and problem), and
//! the top-level properties records have that the schema does not declare.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::report::Mismatch;

/// A validator for `schema`, as the targets validate (draft 7, formats not asserted).
pub fn validator(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| format!("the schema is not a valid JSON Schema: {e}"))
}

/// Every way record number `n` (from 1) breaks the schema.
pub fn mismatches(
    v: &jsonschema::Validator,
    n: usize,
    record: &Map<String, Value>,
) -> Vec<Mismatch> {
    let value = Value::Object(record.clone());
    v.iter_errors(&value)
        .map(|e| Mismatch {
            record: n,
            path: e.instance_path().to_string(),
            problem: e.to_string(),
        })
        .collect()
}

/// Top-level names in `record` that `schema` does not declare.
pub fn undeclared(schema: &Value, record: &Map<String, Value>) -> BTreeSet<String> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return BTreeSet::new();
    };
    record
        .keys()
        .filter(|k| !props.contains_key(*k))
        .cloned()
        .collect()
}
