//! `tap-rest new`: a skeleton that loads, and never an overwritten file.

use assert_cmd::Command;

fn new(dir: &std::path::Path, name: &str) -> std::process::Output {
    Command::cargo_bin("tap-rest")
        .unwrap()
        .args(["new", name, "--dir"])
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn the_skeleton_loads_and_describes_its_streams() {
    let dir = tempfile::tempdir().unwrap();
    let out = new(dir.path(), "acme");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "acme.toml",
        "schemas/acme/items.json",
        "schemas/acme/comments.json",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} was not written");
    }
    let about = Command::cargo_bin("tap-rest")
        .unwrap()
        .arg("--definitions")
        .arg(dir.path().join("acme.toml"))
        .arg("--about")
        .output()
        .unwrap();
    assert!(
        about.status.success(),
        "{}",
        String::from_utf8_lossy(&about.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&about.stdout).unwrap();
    assert_eq!(doc["name"], "tap-acme");
    let streams: Vec<&str> = doc["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(streams, ["items", "comments"]);
    assert!(doc["settings"]["properties"]["token"].is_object(), "{doc}");
    let text = std::fs::read_to_string(dir.path().join("acme.toml")).unwrap();
    assert!(
        text.contains("ACME_TOKEN") && text.contains("tap-rest check"),
        "{text}"
    );
}

#[test]
fn an_existing_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas/acme");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::write(schemas.join("comments.json"), "mine").unwrap();
    let out = new(dir.path(), "acme");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("comments.json already exists; nothing written"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(schemas.join("comments.json")).unwrap(),
        "mine"
    );
    assert!(!dir.path().join("acme.toml").exists());
    assert!(!schemas.join("items.json").exists());
}

#[test]
fn a_name_must_be_an_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let out = new(dir.path(), "Acme-API");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`Acme-API` cannot name a connector"),);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
