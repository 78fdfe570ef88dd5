//! Targets started at once on the same new schema and table (the shards of a sharded run): each
//! finds what another created and loads beside it.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::*;

#[test]
fn targets_starting_together_on_a_new_schema_all_load() {
    let s = setup();
    let loaders: Vec<_> = (0..8)
        .map(|i| {
            let input = lines(&[
                schema(
                    "items",
                    json!({"id": {"type": "integer"}, "name": {"type": "string"}}),
                    &["id"],
                ),
                record("items", json!({"id": i, "name": format!("item {i}")})),
                state(json!({"loader": i})),
            ]);
            let mut child = Command::new(BIN)
                .arg("--config")
                .arg(s.config_path())
                .env_remove("TAPLINE_LOG")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for (i, loader) in loaders.into_iter().enumerate() {
        let out = loader.wait_with_output().unwrap();
        assert!(out.status.success(), "loader {i}: {}", stderr(&out));
    }
    assert_eq!(
        s.column("SELECT id FROM tap.items ORDER BY id"),
        (0..8).map(|i| json!(i)).collect::<Vec<_>>()
    );
}
