//! `--about` (JSON and Markdown), `--version` and `--help`.

use serde_json::{Value, json};

use crate::support::*;

fn bin() -> assert_cmd::Command {
    assert_cmd::Command::new(BIN)
}

#[test]
fn about_json_and_markdown() {
    let out = bin().arg("--about").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let about: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(about["name"], "target-postgres");
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        about["capabilities"],
        json!([
            "about",
            "schema-flattening",
            "validate-records",
            "hard-delete",
            "activate-version"
        ])
    );
    assert_eq!(about["settings"], target_postgres::Config::json_schema());
    let properties: Vec<&String> = about["settings"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    for key in [
        "url",
        "host",
        "port",
        "user",
        "password",
        "database",
        "schema",
        "batch_size_rows",
        "on_invalid_record",
        "hard_delete",
    ] {
        assert!(
            properties.iter().any(|p| *p == key),
            "{key} in {properties:?}"
        );
    }
    assert_eq!(about["settings"]["additionalProperties"], json!(false));

    let out = bin()
        .args(["--about", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "# target-postgres\n\nA fast, strict Singer target that loads PostgreSQL.\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("| schema | False | \"public\" | Schema that receives the tables"),
        "{text}"
    );
    assert!(
        text.contains("| url | False | null | Connection string"),
        "{text}"
    );
}

#[test]
fn version_and_help() {
    let out = bin().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("target-postgres {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = bin().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--config <CONFIG.json>",
        "--input <FILE>",
        "--about",
        "Examples:",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let out = bin().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
