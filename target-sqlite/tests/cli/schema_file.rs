//! The checked-in config schema `schemas/target-sqlite.config.json` matches the code.
//! `TAPLINE_UPDATE_SCHEMAS=1 cargo test -p target-sqlite schema_file` rewrites it.

use std::path::Path;

#[test]
fn config_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/target-sqlite.config.json");
    let want = format!(
        "{}\n",
        serde_json::to_string_pretty(&target_sqlite::Config::json_schema()).unwrap()
    );
    if std::env::var("TAPLINE_UPDATE_SCHEMAS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date; rerun with TAPLINE_UPDATE_SCHEMAS=1 to rewrite it",
        path.display()
    );
}
