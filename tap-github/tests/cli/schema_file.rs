//! The checked-in config schema `schemas/tap-github.config.json` matches the code.
//! `TAPLINE_UPDATE_SCHEMAS=1 cargo test -p tap-github --test cli schema_file` rewrites it.

use std::path::Path;

#[test]
fn config_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/tap-github.config.json");
    let schema = tap_rest::config::schema(&tap_github::engine().unwrap().defs);
    let text = format!("{}\n", serde_json::to_string_pretty(&schema).unwrap());
    if std::env::var("TAPLINE_UPDATE_SCHEMAS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    // Compared as JSON: key order depends on serde_json's `preserve_order`, not on the schema.
    let same = text == checked_in
        || serde_json::from_str::<serde_json::Value>(&checked_in).is_ok_and(|v| v == schema);
    assert!(
        same,
        "{} is out of date; rerun with TAPLINE_UPDATE_SCHEMAS=1 to rewrite it:\n{text}",
        path.display()
    );
}
