//! Schemas completed from an endpoint: an invented tickets API lists its custom fields at
//! `/fields`; they join the static schema of `tickets` (inside its `fields` object) for
//! `--discover` and for the sync, typed by the declared type map.

use serde_json::{Value, json};

use crate::support::{Api, Files, Reply};

const DEFS: &str = r#"
[connector]
name = "tickets"

[settings]
api_url = { type = "string" }

[http]
base_url = "{api_url:raw}"

[[stream]]
name = "tickets"
path = "/tickets"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }

[stream.schema_from]
path = "/fields"
records = "/values"
name = "/key"
type = "/kind"
types = { text = "string", num = "number", when = "date-time" }
into = "/properties/fields"
"#;

fn api() -> impl Fn(&crate::support::Req) -> Reply + Send + Sync + 'static {
    |r| match r.path.as_str() {
        "/fields" => Reply::json(json!({"values": [
            {"key": "summary", "kind": "num"},
            {"key": "custom_1", "kind": "num"},
            {"key": "custom_2", "kind": "when"},
            {"key": "custom_3", "kind": "mystery"}
        ]})),
        "/tickets" => Reply::json(json!([
            {"id": 1, "fields": {"summary": "a", "custom_1": 2.5, "custom_2": "2024-01-01T00:00:00Z", "custom_3": [1]}}
        ])),
        _ => Reply::status(404, "{}"),
    }
}

fn static_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "fields": {"type": "object", "properties": {"summary": {"type": "string"}}}
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovered_properties_join_the_schema_for_discovery_and_sync() {
    let api = Api::start(api()).await;
    let files = Files::new(
        DEFS,
        &[("tickets", static_schema())],
        &json!({"api_url": api.url}),
    );
    let out = files.command(&["--discover"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let catalog: Value = serde_json::from_slice(&out.stdout).unwrap();
    let props = &catalog["streams"][0]["schema"]["properties"]["fields"]["properties"];
    assert_eq!(
        props,
        &json!({
            "summary": {"type": "string"},
            "custom_1": {"type": ["null", "number"]},
            "custom_2": {"type": ["null", "string"], "format": "date-time"},
            "custom_3": {}
        }),
        "declared properties stay as they are; discovered ones are typed by the map"
    );

    let out = files.command(&[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let schema = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|m| m["type"] == "SCHEMA")
        .unwrap();
    assert_eq!(
        schema["schema"]["properties"]["fields"]["properties"]["custom_1"],
        json!({"type": ["null", "number"]})
    );
    let paths: Vec<String> = api.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/fields", "/fields", "/tickets"],
        "one listing per run"
    );
}
