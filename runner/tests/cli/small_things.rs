//! The small things a user trips on: `state show` when empty, `state set` checking the shape,
//! `runs` aligned and its JSON, `-q`, `dbt install --help`, `dbt … -c FILE`.

use crate::support::*;

const SCHEMA: &str = r#"{"type":"SCHEMA","stream":"things","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}"#;

#[test]
fn state_show_prints_an_empty_object_that_set_takes_back() {
    let p = script_pipeline("");
    let out = p.tapline(&["state", "show"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap().trim(), "{}");
    std::fs::write(p.path().join("s.json"), &out.stdout).unwrap();
    let set = p.tapline(&["state", "set", p.path().join("s.json").to_str().unwrap()]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(!stderr(&set).contains("warning"), "{}", stderr(&set));
}

#[test]
fn state_set_checks_the_shape() {
    let p = script_pipeline("");
    let file = p.path().join("s.json");
    std::fs::write(&file, r#"{"bookmarks": 3}"#).unwrap();
    let out = p.tapline(&["state", "set", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`bookmarks` must be an object"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.state(), None, "nothing stored");
    std::fs::write(
        &file,
        r#"{"bookmarks": {"commits": "2024-01-01", "issues": {"since": "x"}}, "bookmark": 1}"#,
    )
    .unwrap();
    let out = p.tapline(&["state", "set", file.to_str().unwrap()]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("warning")
            && err.contains("bookmarks.commits is not an object")
            && err.contains("`bookmark` is not a Singer state key"),
        "{err}"
    );
    assert!(p.state().is_some(), "stored with warnings");
}

#[test]
fn runs_are_aligned_and_json_is_an_array() {
    let p = script_pipeline("");
    script(&p, "tap.sh", &format!("echo '{SCHEMA}'"));
    assert!(p.tapline(&["run", "-q"]).status.success());
    script(&p, "tap.sh", "echo 'tap.sh: error: boom' >&2; exit 1");
    let failed = p.tapline(&["run", "-q"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        !stderr(&failed).contains("[tap.sh]"),
        "-q quiets the relayed child lines: {}",
        stderr(&failed)
    );
    assert!(
        stderr(&failed)
            .contains("tapline: error: tap.sh failed (exit status: 1): tap.sh: error: boom"),
        "the error is still said: {}",
        stderr(&failed)
    );
    let text = String::from_utf8(p.tapline(&["runs"]).stdout).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("error:"))
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    let column = |l: &str, word: &str| l.find(word);
    let status_at = column(rows[0], "status");
    assert!(status_at.is_some());
    assert_eq!(column(rows[1], "failed"), status_at, "{text}");
    assert_eq!(column(rows[2], "success"), status_at, "{text}");
    let help = String::from_utf8(p.tapline(&["runs", "--help"]).stdout).unwrap();
    assert!(help.contains("one JSON array of runs"), "{help}");
    let json: serde_json::Value =
        serde_json::from_slice(&p.tapline(&["runs", "--output", "json"]).stdout).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    assert_eq!(json[0]["status"], "failed");
}

#[test]
fn dbt_install_help_and_dbt_with_c_after_its_arguments() {
    let out = std::process::Command::new(tapline())
        .args(["dbt", "install", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("Usage: tapline dbt install"),
        "help, not an install"
    );
    // `-c` after dbt's arguments is tapline's: this pipeline has no [dbt], which is what is said.
    let p = script_pipeline("");
    script(&p, "tap.sh", "exit 0");
    let out = std::process::Command::new(tapline())
        .args(["dbt", "run", "-c"])
        .arg(p.path().join("tapline.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tapline.toml: no [dbt] section with commands"),
        "{}",
        stderr(&out)
    );
}
