//! Tokens never appear in output, state, the database or files left behind.

use crate::support::*;

#[test]
fn the_token_is_never_printed_or_stored() {
    let token = "tapline-test-secret-0123456789";
    let fake = fake(&[("octo/app", 40, 10)], 0, Some(token));
    let p = Pipeline::github(
        &fake,
        &["octo/app"],
        ", auth_token = \"${TAPLINE_TEST_TOKEN}\"",
        "",
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = p
        .command(&["run", "--output", "json"])
        .env("TAPLINE_TEST_TOKEN", token)
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(token));
    assert!(!stderr(&out).contains(token));
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "temporary configs are removed"
    );
    for entry in walk(p.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token found in {}",
            entry.display()
        );
    }
    // A wrong token fails, and the error does not echo it either.
    let out = p
        .command(&["run"])
        .env("TAPLINE_TEST_TOKEN", "tapline-wrong-token-abcdef")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stderr(&out).contains("tapline-wrong-token-abcdef"),
        "{}",
        stderr(&out)
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.file_name().is_some_and(|n| n != "tapline.toml") {
            out.push(path);
        }
    }
    out
}
