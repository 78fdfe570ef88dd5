//! Progress says what is happening even while no record flows, and the summary counts retries,
//! rate-limit waits, 304s and 404s.

use fake_github::{FakeGithub, RepoSize, RunningFake};

use crate::support::*;

fn progress_lines(err: &str) -> Vec<&str> {
    err.lines()
        .filter(|l| l.starts_with("tapline: ") && l.contains(" requests | "))
        .collect()
}

#[test]
fn a_quiet_tap_still_gets_progress_lines() {
    let p = script_pipeline("");
    script(
        &p,
        "tap.sh",
        r#"echo '{"type":"SCHEMA","stream":"things","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}'
sleep 2"#,
    );
    let out = p
        .command(&["run"])
        .env("TAPLINE_PROGRESS_EVERY_MS", "200")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let lines = progress_lines(&err);
    assert!(
        lines.len() >= 5,
        "a line every 200 ms while nothing flows: {err}"
    );
    assert!(
        lines[0].starts_with("tapline: no records yet | 0 requests"),
        "{err}"
    );
}

#[test]
fn retries_and_waits_are_shown_and_counted() {
    let faults = "http502:every=2:times=2,secondary:every=3:times=1:retry=2"
        .parse()
        .unwrap();
    let fake = RunningFake::start_blocking(
        FakeGithub::builder()
            .seed(7)
            .repo("octo/app", RepoSize::new(300, 20))
            .faults(faults),
    )
    .unwrap();
    let p = Pipeline::github(&fake, &["octo/app"], ", max_concurrency = 1", "");
    let out = p
        .command(&["run", "--output", "json", "--select", "commits,issues"])
        .env("TAPLINE_PROGRESS_EVERY_MS", "100")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["http"]["retries"], 2, "{report}");
    assert_eq!(report["http"]["rate_limit_waits"], 1, "{report}");
    let err = stderr(&out);
    assert!(
        progress_lines(&err)
            .iter()
            .any(|l| l.contains("| waiting for the rate limit to reset until ")),
        "{err}"
    );
    assert!(
        progress_lines(&err)
            .iter()
            .any(|l| l.contains("| GET /repos/octo/app/commits (200)")
                || l.contains("| GET /repos/octo/app/issues (200)")),
        "{err}"
    );
}

#[test]
fn not_found_is_counted_and_a_named_repository_fails() {
    let fake = fake(&[("octo/app", 30, 5)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app", "octo/nope"], "", "");
    let out = p.tapline(&["run", "--output", "json", "--select", "commits"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a named repository that is missing fails"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["http"]["not_found"].as_u64().unwrap() >= 1,
        "{report}"
    );
    assert!(
        report["error"].as_str().unwrap().contains("octo/nope"),
        "the cause names it: {report}"
    );
    let text = String::from_utf8(p.tapline(&["run", "--select", "commits"]).stdout).unwrap();
    assert!(text.contains(" not found)"), "{text}");
}

#[test]
fn a_run_with_nothing_new_counts_its_304s() {
    let fake = fake(&[("octo/app", 30, 5)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    let first = p.tapline(&["run", "--output", "json"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = p.tapline(&["run", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["http"]["not_modified"].as_u64().unwrap() >= 1,
        "{report}"
    );
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(first["http"]["not_modified"], 0, "{first}");
}
