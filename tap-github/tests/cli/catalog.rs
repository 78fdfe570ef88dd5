//! `--discover` prints a valid catalog; selection is honoured at stream and field level.

use serde_json::{Value, json};

use crate::support::*;

#[test]
fn discover_prints_a_valid_catalog() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let out = cmd(&dir).arg("--discover").output().unwrap();
    assert!(out.status.success());
    let catalog: singer::Catalog = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(catalog.streams.len(), 9);
    for e in &catalog.streams {
        assert!(e.is_selected(), "{} selected by default", e.stream);
        assert!(!e.key_properties().is_empty());
        jsonschema::draft4::new(&e.schema).unwrap();
        for k in e.key_properties() {
            assert!(e.schema["properties"].get(&k).is_some());
            let m = e.metadata_at(&["properties", &k]).unwrap();
            assert_eq!(serde_json::to_value(m).unwrap()["inclusion"], "automatic");
        }
    }
    let commits = catalog.stream("commits").unwrap();
    assert_eq!(commits.key_properties(), ["_sdc_repository", "sha"]);
    assert_eq!(
        catalog.stream("issues").unwrap().replication_key(),
        Some("updated_at")
    );
    assert_eq!(
        serde_json::to_value(catalog.stream("releases").unwrap().replication_method()).unwrap(),
        "FULL_TABLE"
    );
    let reviews = catalog.stream("pull_request_reviews").unwrap();
    assert_eq!(reviews.key_properties(), ["id"]);
    assert_eq!(
        serde_json::to_value(reviews.replication_method()).unwrap(),
        "FULL_TABLE"
    );
    assert!(
        reviews.schema["properties"]
            .get("_sdc_pull_number")
            .is_some()
    );
    assert_eq!(fake.stats().total, 0, "discovery needs no request");
}

#[test]
fn unselected_streams_make_no_requests_and_deselected_fields_are_absent() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let mut catalog = catalog_selecting(&dir, &["commits"]);
    // Drop the top-level author and committer objects of commits, and try to drop the key.
    for m in catalog["streams"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["stream"] == "commits")
        .unwrap()["metadata"]
        .as_array_mut()
        .unwrap()
    {
        if [
            json!(["properties", "author"]),
            json!(["properties", "committer"]),
            json!(["properties", "sha"]),
        ]
        .contains(&m["breadcrumb"])
        {
            m["metadata"]["selected"] = Value::Bool(false);
        }
    }
    let path = write(&dir, "catalog.json", &catalog);
    let run = run_ok(&dir, None, &["--properties", &path]);
    assert_eq!(run.streams(), ["commits".to_owned()].into());
    let records = run.records("commits");
    assert_eq!(records.len(), 350);
    assert!(records.iter().all(|r| !r.contains_key("author")
        && !r.contains_key("committer")
        && r.contains_key("sha")
        && r.contains_key("commit")));
    let schema = run.messages.iter().find(|m| m["type"] == "SCHEMA").unwrap();
    assert!(schema["schema"]["properties"].get("author").is_none());
    assert_eq!(
        run.messages
            .iter()
            .filter(|m| m["type"] == "SCHEMA")
            .count(),
        1
    );
    let stats = fake.stats();
    assert!(
        stats.by_path.keys().all(|p| p.ends_with("/commits")),
        "only commits requested: {:?}",
        stats.by_path.keys()
    );
}
