//! `--about` (JSON and Markdown), `--version`, `--help` and command-line or config mistakes.

use serde_json::{Value, json};

use crate::support::*;

fn bin() -> assert_cmd::Command {
    assert_cmd::Command::new(BIN)
}

#[test]
fn about_json() {
    let out = bin().arg("--about").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let about: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(about["name"], "target-sqlite");
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        about["description"],
        "A fast, strict Singer target that loads SQLite."
    );
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
    assert_eq!(about["settings"], target_sqlite::Config::json_schema());
    assert_eq!(about["settings"]["required"], json!(["database"]));
    let same = bin()
        .args(["--about", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(same.stdout, out.stdout);
}

#[test]
fn about_markdown() {
    let out = bin()
        .args(["--about", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "# target-sqlite\n\nA fast, strict Singer target that loads SQLite.\n\nVersion: {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    for capability in [
        "about",
        "schema-flattening",
        "validate-records",
        "hard-delete",
        "activate-version",
    ] {
        assert!(text.contains(&format!("\n* `{capability}`\n")), "{text}");
    }
    let settings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Setting"))
        .collect();
    let row = |name: &str| -> &str {
        let prefix = format!("| {name} | ");
        let found: Vec<&&str> = settings.iter().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(found.len(), 1, "{name} in {settings:?}");
        found[0]
    };
    assert_eq!(settings.len(), 9, "{settings:?}");
    let database = row("database");
    assert!(
        database.starts_with("| database | True |  | Path of the SQLite database file"),
        "{database}"
    );
    let batch = row("batch_size_rows");
    assert!(
        batch.starts_with("| batch_size_rows | False | 100000 | Rows after which"),
        "{batch}"
    );
    for (name, default) in [
        ("flatten_max_depth", "10"),
        ("add_record_metadata", "true"),
        ("validate_records", "true"),
        ("on_invalid_record", "\"fail\""),
        ("hard_delete", "false"),
        ("journal_mode", "\"WAL\""),
        ("synchronous", "\"FULL\""),
    ] {
        let line = row(name);
        assert!(
            line.starts_with(&format!("| {name} | False | {default} | ")),
            "{line}"
        );
    }
}

#[test]
fn version_and_help() {
    let out = bin().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("target-sqlite {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = bin().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Usage: target-sqlite [OPTIONS]\n",
        "--config <CONFIG.json>",
        "--input <FILE>",
        "--about",
        "--format <FORMAT>",
        "--version",
        "Examples:",
        "target-sqlite --config target.json --input messages.singer",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

#[test]
fn command_line_mistakes() {
    let out = bin().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("the following required arguments were not provided")
            && err.contains("--config <CONFIG.json>"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = bin()
        .args(["--format", "markdown", "--config", "x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--about"), "{}", stderr(&out));
}

#[test]
fn config_mistakes() {
    let (dir, mut cmd) = setup_with(json!({"batch_size": 5}));
    let out = run(&mut cmd, "");
    let path = config_path(&dir);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "target-sqlite: error: config {}: unknown field `batch_size`, expected one of `database`",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!db_path(&dir).exists());

    write_config(&dir, json!({"on_invalid_record": "skip"}));
    let out = run(&mut cmd, "");
    assert!(
        stderr(&out).contains("unknown variant `skip`, expected `fail` or `reject`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1));

    write_config(&dir, json!({"batch_size_rows": 0}));
    let out = run(&mut cmd, "");
    assert_error(
        &out,
        &format!(
            "config {}: batch_size_rows must be at least 1",
            path.display()
        ),
    );

    std::fs::write(&path, "{not json").unwrap();
    let out = run(&mut cmd, "");
    assert_error(
        &out,
        &format!(
            "config {}: key must be a string at line 1 column 2",
            path.display()
        ),
    );

    std::fs::remove_file(&path).unwrap();
    let out = run(&mut cmd, "");
    assert_error(
        &out,
        &format!(
            "cannot read config {}: No such file or directory (os error 2)",
            path.display()
        ),
    );
}
