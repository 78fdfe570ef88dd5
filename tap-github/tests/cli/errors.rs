//! 401 fails fast; 404 skips the repository; 409 and 204 (empty repository) give zero records;
//! organizations expand to their repositories, an empty one to none; config errors are one line.

use fake_github::{FakeGithub, RepoSize};
use serde_json::json;

use crate::support::*;

#[test]
fn bad_credentials_fail_fast_with_one_line() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({"auth_token": "wrong"}));
    let out = cmd(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("tap-github: error: unauthorized:")
            && last.contains("Bad credentials")
            && last.contains("auth_token"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong"), "the token is never logged");
    assert!(
        fake.stats().total <= 4,
        "no retries of a 401: {:?}",
        fake.stats()
    );
}

#[test]
fn token_falls_back_to_the_environment() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({"repositories": ["octo/lib"]}));
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config_path(&dir)).unwrap()).unwrap();
    config.as_object_mut().unwrap().remove("auth_token");
    std::fs::write(config_path(&dir), config.to_string()).unwrap();
    let out = cmd(&dir).env("GITHUB_TOKEN", TOKEN).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cmd(&dir).output().unwrap();
    assert!(!out.status.success(), "no token, refused");
}

#[test]
fn a_named_repository_that_is_missing_fails_the_run_after_the_others() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({"repositories": ["octo/lib", "octo/nope"]}));
    let out = cmd(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let run = Run::parse(&out);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last, "tap-github: error: not found: repository octo/nope",
        "{}",
        run.stderr
    );
    // The other repository is complete, bookmarks included.
    let state = run.last_state();
    for s in ["commits", "issues"] {
        assert_eq!(
            state["bookmarks"][s]["partitions"][0]["context"]["repository"],
            "octo/lib"
        );
    }
    assert_eq!(unique_keys("commits", &run.records("commits")).len(), 120);
    assert!(
        run.messages
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .all(|m| m["record"]["_sdc_repository"] == "octo/lib")
    );
}

#[test]
fn empty_repository_gives_zero_records() {
    let fake = start(
        FakeGithub::builder()
            .token(TOKEN)
            .repo("octo/empty", RepoSize::default()),
    );
    let dir = setup(&fake, json!({"repositories": ["octo/empty"]}));
    let run = run_ok(&dir, None, &[]);
    let stats = fake.stats();
    assert_eq!(
        stats.by_path["/repos/octo/empty/commits"].get(&409),
        Some(&1),
        "{stats:?}"
    );
    assert_eq!(
        stats.by_path["/repos/octo/empty/contributors"].get(&204),
        Some(&1),
        "{stats:?}"
    );
    assert_eq!(
        run.streams(),
        ["repositories".to_owned()].into(),
        "only the repository itself"
    );
}

#[test]
fn organizations_expand_to_their_repositories() {
    let fake = start(two_repos().repo("other/x", RepoSize::new(5, 2)));
    let dir = setup(
        &fake,
        json!({"repositories": ["other/x", "OCTO/app"], "organizations": ["octo"]}),
    );
    let catalog = write(
        &dir,
        "catalog.json",
        &catalog_selecting(&dir, &["repositories"]),
    );
    let run = run_ok(&dir, None, &["--catalog", &catalog]);
    let mut names: Vec<_> = run
        .records("repositories")
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["octo/app", "octo/lib", "other/x"],
        "duplicates dropped case-insensitively"
    );
}

#[test]
fn empty_organization_syncs_nothing() {
    let fake = start(
        FakeGithub::builder()
            .token(TOKEN)
            .org("ghost")
            .repo("octo/app", RepoSize::new(5, 2)),
    );
    let dir = setup(
        &fake,
        json!({"repositories": [], "organizations": ["ghost"]}),
    );
    let run = run_ok(&dir, None, &[]);
    assert!(run.streams().is_empty());
    assert!(
        run.stderr.contains("ghost"),
        "a warning names it: {}",
        run.stderr
    );
    assert_eq!(fake.stats().total, 1, "one list request");
}

#[test]
fn config_errors_are_one_line_naming_the_key() {
    let fake = start(two_repos());
    for (settings, needle) in [
        (json!({"max_concurrency": "many"}), "`max_concurrency`"),
        (json!({"colour": "blue"}), "`colour`: unknown setting"),
        (
            json!({"repositores": ["a/b"]}),
            "did you mean `repositories`?",
        ),
        (json!({"start_date": "last week"}), "`start_date`"),
        (
            json!({"repositories": ["just-a-name"]}),
            "`repositories[0]`",
        ),
    ] {
        let dir = setup(&fake, settings);
        let out = cmd(&dir).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("tap-github: error: ") && stderr.contains(needle),
            "{stderr}"
        );
    }
    assert_eq!(fake.stats().total, 0);
}
