//! Schemas completed from an endpoint: properties an API defines per account (custom fields,
//! say) are listed by a request and added to a stream's static schema before discovery or a
//! sync, so they are selected, typed and loaded like the others.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::Error;
use super::http::Client;
use super::request::{Request, Scope};
use crate::defs::Definitions;
use crate::defs::stream::SchemaFrom;
use crate::defs::template::Target;

/// Adds the properties each stream's `schema_from` lists to its schema in `schemas`.
pub async fn extend(
    defs: &Definitions,
    schemas: &mut BTreeMap<String, Value>,
    client: &Client,
    scope: &Scope,
) -> Result<(), Error> {
    for s in &defs.streams {
        let Some(from) = &s.schema_from else {
            continue;
        };
        let url = client.url(&scope.fill(&from.path, Target::Path, "schema_from.path")?);
        let resp = client
            .send(from.path.source(), &Request::get(url.clone()), None, &[])
            .await?;
        if !(200..300).contains(&resp.status) {
            return Err(Error::Status {
                stream: s.name.clone(),
                url,
                status: resp.status,
                message: client.mask(&super::http::message(&resp.body)),
            });
        }
        let (items, _) = super::records::parse(&s.name, &url, &resp.body, &from.records)?;
        let schema = schemas
            .get_mut(&s.name)
            .ok_or_else(|| Error::Setup(format!("stream `{}` has no schema", s.name)))?;
        let target = schema.pointer_mut(&from.into).ok_or_else(|| {
            Error::Setup(format!(
                "stream `{}`: schema_from.into `{}` is not in its schema",
                s.name, from.into
            ))
        })?;
        add(target, &items, from);
    }
    Ok(())
}

/// Adds one property per item to the object schema `target` (declared ones are kept).
fn add(target: &mut Value, items: &[Value], from: &SchemaFrom) {
    let Value::Object(object) = target else {
        return;
    };
    let props = object
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(props) = props else {
        return;
    };
    for item in items {
        let Some(name) = item.pointer(&from.name).and_then(Value::as_str) else {
            continue;
        };
        if props.contains_key(name) {
            continue;
        }
        let api_type = item
            .pointer(&from.kind)
            .and_then(Value::as_str)
            .unwrap_or("");
        props.insert(
            name.to_owned(),
            property(from.types.get(api_type).map(String::as_str)),
        );
    }
}

/// The JSON Schema of a discovered property of JSON Schema type `kind` (none: any JSON).
fn property(kind: Option<&str>) -> Value {
    match kind {
        Some("date-time") => json!({"type": ["null", "string"], "format": "date-time"}),
        Some(t @ ("string" | "number" | "integer" | "boolean" | "array" | "object")) => {
            json!({"type": ["null", t]})
        }
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_become_typed_properties_without_replacing_declared_ones() {
        let from: SchemaFrom = toml::from_str(
            "path = \"/fields\"\nname = \"/id\"\ntype = \"/schema/type\"\ninto = \"/properties/fields\"\ntypes = { string = \"string\", datetime = \"date-time\", number = \"number\" }",
        )
        .unwrap();
        let mut target = json!({"type": "object", "properties": {"summary": {"type": "string"}}});
        let items = vec![
            json!({"id": "summary", "schema": {"type": "number"}}),
            json!({"id": "customfield_1", "schema": {"type": "number"}}),
            json!({"id": "customfield_2", "schema": {"type": "datetime"}}),
            json!({"id": "customfield_3", "schema": {"type": "sd-servicelevelagreement"}}),
            json!({"schema": {"type": "number"}}),
        ];
        add(&mut target, &items, &from);
        assert_eq!(
            target["properties"],
            json!({
                "summary": {"type": "string"},
                "customfield_1": {"type": ["null", "number"]},
                "customfield_2": {"type": ["null", "string"], "format": "date-time"},
                "customfield_3": {}
            })
        );
    }
}
