//! A full sync equals the fake's truth for every stream, the records validate against their
//! schemas, and the message order follows Singer's rules.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::*;

const REPOS: [&str; 2] = ["octo/app", "octo/lib"];

#[test]
fn every_stream_equals_the_truth() {
    let fake = start(two_repos());
    let dir = setup(&fake, serde_json::json!({}));
    let run = run_ok(&dir, None, &[]);
    let truth = truth_keys(&fake, &REPOS);
    for (stream, expected) in &truth {
        let got = unique_keys(stream, &run.records(stream));
        assert_eq!(&got, expected, "{stream}");
    }
    for stream in ["releases", "stargazers", "contributors"] {
        assert!(
            !truth[stream].is_empty(),
            "{stream}: the fixture should have some"
        );
    }
    assert_eq!(
        unique_keys("repositories", &run.records("repositories")).len(),
        2
    );
    // Every record says where it came from; stargazers and contributors carry their key.
    for m in run.messages.iter().filter(|m| m["type"] == "RECORD") {
        let repo = m["record"]["_sdc_repository"].as_str().unwrap();
        assert!(REPOS.contains(&repo), "{m}");
    }
    assert!(
        run.records("stargazers")
            .iter()
            .all(|r| r["user_id"] == r["user"]["id"] && r["starred_at"].is_string())
    );
    assert!(
        run.records("contributors")
            .iter()
            .all(|r| r["user_id"] == r["id"])
    );
    assert!(
        run.records("issues")
            .iter()
            .any(|r| r.contains_key("pull_request")),
        "PRs are in issues, flagged"
    );
    let names: BTreeSet<_> = run
        .records("repositories")
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, REPOS.iter().map(|s| s.to_string()).collect());
}

#[test]
fn records_validate_against_their_schemas_and_order_is_singer() {
    let fake = start(two_repos());
    let dir = setup(&fake, serde_json::json!({}));
    let run = run_ok(&dir, None, &[]);
    let mut validators = std::collections::BTreeMap::new();
    let mut last_record_of = std::collections::BTreeMap::new();
    for (i, m) in run.messages.iter().enumerate() {
        match m["type"].as_str().unwrap() {
            "SCHEMA" => {
                let schema = &m["schema"];
                let text = schema.to_string();
                assert!(
                    !text.contains("$ref") && !text.contains("$defs"),
                    "draft 4/7 without refs"
                );
                validators.insert(
                    m["stream"].as_str().unwrap().to_owned(),
                    jsonschema::draft7::new(schema).unwrap(),
                );
                for k in m["key_properties"].as_array().unwrap() {
                    assert!(
                        schema["properties"].get(k.as_str().unwrap()).is_some(),
                        "key {k} declared"
                    );
                }
            }
            "RECORD" => {
                let stream = m["stream"].as_str().unwrap();
                let v = validators
                    .get(stream)
                    .unwrap_or_else(|| panic!("RECORD of {stream} before its SCHEMA"));
                if let Err(e) = v.validate(&m["record"]) {
                    panic!("{stream} record does not validate: {e}: {}", m["record"]);
                }
                last_record_of.insert(stream.to_owned(), i);
            }
            "ACTIVATE_VERSION" => {
                let stream = m["stream"].as_str().unwrap();
                assert!(
                    last_record_of.get(stream).is_some_and(|&j| j < i),
                    "ACTIVATE_VERSION after the records of {stream}"
                );
                let version = &m["version"];
                assert!(!run.records(stream).is_empty());
                assert!(
                    run.messages
                        .iter()
                        .filter(|r| r["type"] == "RECORD" && r["stream"] == stream)
                        .all(|r| &r["version"] == version)
                );
            }
            "STATE" => assert!(m["value"]["bookmarks"].is_object()),
            other => panic!("unexpected message type {other}"),
        }
    }
    assert_eq!(run.messages.last().unwrap()["type"], "STATE");
    assert_eq!(validators.len(), 9);
}

/// Schemas accept GitHub's real shapes that the fake does not always produce.
#[test]
fn schemas_accept_real_shapes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/github");
    let load = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap())
            .unwrap()
    };
    let commits = jsonschema::draft4::new(&load("commits")).unwrap();
    for author in [Value::Null, serde_json::json!({})] {
        let r = serde_json::json!({"sha": "a", "_sdc_repository": "o/r", "author": author, "committer": author,
            "commit": {"author": {"name": "x", "email": "x@y", "date": "2024-01-01T00:00:00Z"}, "message": "m"}});
        assert!(commits.is_valid(&r), "{r}");
    }
    let issues = jsonschema::draft4::new(&load("issues")).unwrap();
    let r = serde_json::json!({"id": 1, "_sdc_repository": "o/r", "body": null, "user": {}, "assignee": null, "milestone": null,
        "labels": [{"id": 1, "name": "bug", "color": "f00", "description": null, "default": false}]});
    assert!(issues.is_valid(&r));
    assert!(
        !issues.is_valid(&serde_json::json!({"id": "one"})),
        "ids stay typed"
    );
}
