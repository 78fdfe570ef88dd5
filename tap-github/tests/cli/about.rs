//! `--about` in both formats, `--version`, and a missing config.

use assert_cmd::Command;

use crate::support::BIN;

#[test]
fn about_json_lists_capabilities_streams_and_settings() {
    let out = Command::new(BIN)
        .args(["--about", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let about: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(about["name"], "tap-github");
    assert!(
        about["capabilities"]
            .as_array()
            .unwrap()
            .contains(&"discover".into())
    );
    let commits = about["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "commits")
        .expect("commits is listed");
    assert_eq!(commits["replication"], "incremental");
    for key in [
        "repositories",
        "organizations",
        "auth_token",
        "api_url",
        "max_concurrency",
        "rate_limit_buffer",
        "lookback_s",
    ] {
        assert!(about["settings"]["properties"].get(key).is_some(), "{key}");
    }
}

#[test]
fn about_markdown_and_version() {
    let out = Command::new(BIN)
        .args(["--about", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("# tap-github") && text.contains("| max_concurrency |"),
        "{text}"
    );
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("tap-github ")
    );
}

#[test]
fn missing_config_is_a_usage_error() {
    let out = Command::new(BIN).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
}
