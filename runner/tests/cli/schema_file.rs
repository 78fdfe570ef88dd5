//! The checked-in `schemas/tapline.pipeline.json` matches the code.
//! `TAPLINE_UPDATE_SCHEMAS=1 cargo test -p runner --test cli schema_file` rewrites it.

use std::path::Path;

#[test]
fn pipeline_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/tapline.pipeline.json");
    let schema = tapline::config::Pipeline::json_schema();
    let text = format!("{}\n", serde_json::to_string_pretty(&schema).unwrap());
    if std::env::var("TAPLINE_UPDATE_SCHEMAS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let checked_in: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
            .unwrap_or_default();
    assert!(
        checked_in == schema,
        "{} is out of date; rerun with TAPLINE_UPDATE_SCHEMAS=1 to rewrite it:\n{text}",
        path.display()
    );
}
