//! Pipelines whose tap is a connector run by tap-rest: `connector = "github"` (shipped) or
//! `definitions = "api.toml"` (a file beside the pipeline, `connectors/tracker.toml`: one
//! repository's issues from fake-github); `tapline init --connector`; the `--about` cache and
//! the bookmarks of two connectors kept apart.

use std::path::Path;
use std::process::Output;

use fake_github::RunningFake;

use crate::support::*;

/// A definitions file of these tests: one repository's issues, from fake-github.
const TRACKER: &str = include_str!("connectors/tracker.toml");

/// `FILE.toml` in `dir`: pipeline `name`, the `[tap]` lines given, the config, target-sqlite.
fn write_pipeline(dir: &Path, file: &str, name: &str, tap: &str, config: &str) {
    let text = format!(
        "name = \"{name}\"\n[tap]\n{tap}\nconfig = {{ {config} }}\n[target]\nexecutable = \"{}\"\nconfig = {{ database = \"data/github.db\" }}\n",
        sibling("target-sqlite").display()
    );
    std::fs::write(dir.join(file), text).unwrap();
}

fn github_config(fake: &RunningFake) -> String {
    format!(
        "repositories = [\"octo/app\"], start_date = \"2019-01-01T00:00:00Z\", api_url = \"{}\"",
        fake.api_url()
    )
}

fn tracker_config(fake: &RunningFake) -> String {
    format!(
        "repository = \"octo/app\", api_url = \"{}\"",
        fake.api_url()
    )
}

fn tapline_at(dir: &Path, file: &str, args: &[&str]) -> Output {
    std::process::Command::new(tapline())
        .args(args)
        .arg("-c")
        .arg(dir.join(file))
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(out)))
}

/// The lines tapline printed as errors.
fn errors(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("tapline: error: "))
        .map(String::from)
        .collect()
}

#[test]
fn a_shipped_connector_runs_through_tap_rest_and_loads_the_truth() {
    let fake = fake(&[("octo/app", 120, 40)], 0, None);
    let p = Pipeline::with_text("");
    write_pipeline(
        p.path(),
        "tapline.toml",
        "gh",
        "connector = \"github\"\nselect = [\"commits\", \"issues\"]",
        &github_config(&fake),
    );
    let out = p.tapline(&["validate", "--no-dbt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--definitions github"),
        "{}",
        stderr(&out)
    );
    let out = p.tapline(&["run", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["tap"], "tap-github");
    assert_eq!(report["records"]["commits"], 120);
    let (commits, issues) = truth_keys(&fake, "octo/app");
    assert_eq!(p.keys("commits", "sha"), commits);
    assert_eq!(p.keys("issues", "id"), issues);
    let out = p.tapline(&["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("1 not modified") && summary.contains(" from tap-github ("),
        "an incremental run, through the stored bookmarks: {summary}"
    );
    let out = p.tapline(&["runs", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = json(&out);
    assert_eq!(runs.as_array().map(Vec::len), Some(2), "{runs}");
    assert_eq!(runs[1]["records"]["commits"], 120, "{runs}");
}

#[test]
fn a_definitions_file_beside_the_pipeline_runs() {
    let fake = fake(&[("octo/app", 10, 70)], 0, None);
    let p = Pipeline::with_text("");
    std::fs::write(p.path().join("api.toml"), TRACKER).unwrap();
    write_pipeline(
        p.path(),
        "tapline.toml",
        "tracker",
        "definitions = \"api.toml\"",
        &tracker_config(&fake),
    );
    let out = p.tapline(&["run", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["tap"], "tap-tracker");
    assert_eq!(report["records"]["issues"], 70);
    assert_eq!(p.keys("issues", "id"), truth_keys(&fake, "octo/app").1);
    let state = p.state().unwrap();
    assert!(state["bookmarks"]["issues"].is_object(), "{state}");
}

#[test]
fn a_tap_named_twice_or_by_an_unknown_connector_is_a_one_line_error() {
    let p = Pipeline::with_text("");
    std::fs::write(p.path().join("api.toml"), TRACKER).unwrap();
    for (tap, expected) in [
        (
            "connector = \"github\"\ndefinitions = \"api.toml\"",
            "tap.connector: give `connector` (a shipped connector) or `definitions` (a file), not both",
        ),
        (
            "connector = \"github\"\nexecutable = \"tap-github\"",
            "tap.executable: leave it out with `connector = \"github\"`",
        ),
        (
            "connector = \"gitlub\"",
            "tap.connector: unknown connector `gitlub` (shipped: github",
        ),
        (
            "definitions = \"absent.toml\"",
            "tap.definitions: cannot read",
        ),
        (
            "select = [\"issues\"]",
            "tap: name the tap with `executable`, `connector` or `definitions`",
        ),
    ] {
        write_pipeline(p.path(), "tapline.toml", "p", tap, "");
        for args in [
            &["validate", "--no-dbt"][..],
            &["run", "--output", "json"][..],
        ] {
            let out = p.tapline(args);
            assert_eq!(out.status.code(), Some(2), "{tap}: {}", stderr(&out));
            let errors = errors(&out);
            assert_eq!(errors.len(), 1, "{tap}: {errors:?}");
            let file = p.path().join("tapline.toml");
            let prefix = format!("tapline: error: {}: {expected}", file.display());
            assert!(errors[0].starts_with(&prefix), "{tap}: {errors:?}");
        }
    }
}

#[test]
fn the_about_cache_keeps_two_connectors_apart() {
    let fake = fake(&[("octo/app", 1, 1)], 0, None);
    let p = Pipeline::with_text("");
    std::fs::write(p.path().join("api.toml"), TRACKER).unwrap();
    write_pipeline(
        p.path(),
        "github.toml",
        "gh",
        "connector = \"github\"",
        &github_config(&fake),
    );
    write_pipeline(
        p.path(),
        "tracker.toml",
        "tracker",
        "definitions = \"api.toml\"",
        &tracker_config(&fake),
    );
    for file in ["github.toml", "tracker.toml", "github.toml"] {
        let out = tapline_at(p.path(), file, &["validate", "--no-dbt"]);
        assert!(out.status.success(), "{file}: {}", stderr(&out));
    }
    write_pipeline(
        p.path(),
        "tracker.toml",
        "tracker",
        "definitions = \"api.toml\"",
        &github_config(&fake),
    );
    let out = tapline_at(p.path(), "tracker.toml", &["validate", "--no-dbt"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tap.config.repositories: unknown setting"),
        "checked against the tracker's settings: {}",
        stderr(&out)
    );
}

#[test]
fn two_connectors_under_one_name_do_not_share_bookmarks() {
    let fake = fake(&[("octo/app", 5, 12)], 0, None);
    let p = Pipeline::with_text("");
    std::fs::write(p.path().join("api.toml"), TRACKER).unwrap();
    write_pipeline(
        p.path(),
        "github.toml",
        "shared",
        "connector = \"github\"\nselect = [\"issues\"]",
        &github_config(&fake),
    );
    write_pipeline(
        p.path(),
        "tracker.toml",
        "shared",
        "definitions = \"api.toml\"",
        &tracker_config(&fake),
    );
    let out = tapline_at(p.path(), "github.toml", &["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tapline_at(p.path(), "tracker.toml", &["run", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(json(&out)["status"], "config_error");
    let errors = errors(&out);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains(
            "name: the stored bookmarks of pipeline `shared` were written by tap-github, and this file's tap is tap-tracker"
        ),
        "{errors:?}"
    );
    let out = tapline_at(p.path(), "tracker.toml", &["state", "clear"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tapline_at(p.path(), "tracker.toml", &["run", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json(&out)["records"]["issues"],
        12,
        "from the start, not from GitHub's bookmark"
    );
}

#[test]
fn init_with_the_github_connector_writes_a_pipeline_that_runs() {
    let fake = fake(&[("octo/app", 30, 8)], 0, None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tapline.toml");
    let out = std::process::Command::new(tapline())
        .args(["init", "--connector", "github", "--repo", "octo/app"])
        .args(["--start-date", "2019-01-01", "--api-url", &fake.api_url()])
        .arg("-c")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\nconnector = \"github\""), "{text}");
    assert!(text.contains("[dbt]") && dir.path().join("dbt/dbt_project.yml").is_file());
    let out = tapline_at(
        dir.path(),
        "tapline.toml",
        &["run", "--no-dbt", "--output", "json", "--select", "commits"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["records"]["commits"], 30);
}

#[test]
fn init_with_a_definitions_file_writes_no_dbt_and_asks_for_its_settings() {
    let fake = fake(&[("octo/app", 3, 9)], 0, None);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.toml"), TRACKER).unwrap();
    let init = |sets: &[&str]| {
        let mut cmd = std::process::Command::new(tapline());
        cmd.args(["init", "--force", "--connector"])
            .arg(dir.path().join("api.toml"))
            .arg("-c")
            .arg(dir.path().join("tapline.toml"));
        for set in sets {
            cmd.args(["--set", set]);
        }
        cmd.output().unwrap()
    };
    for (sets, expected) in [
        (
            &["api_url=http://127.0.0.1:9"][..],
            "tapline: error: --connector tracker: give --set repository=VALUE",
        ),
        (
            &["repository=octo", "api_url=http://127.0.0.1:9"][..],
            "tapline: error: --set repository=octo: \"octo\" does not match",
        ),
        (
            &[
                "repository=octo/app",
                "api_url=http://127.0.0.1:9",
                "pat=abc",
            ][..],
            "tapline: error: --set pat: a secret is never written into the pipeline file; export TRACKER_PAT instead",
        ),
    ] {
        let out = init(sets);
        assert_eq!(out.status.code(), Some(2), "{sets:?}: {}", stderr(&out));
        let errors = errors(&out);
        assert_eq!(errors.len(), 1, "{sets:?}: {errors:?}");
        assert!(errors[0].starts_with(expected), "{sets:?}: {errors:?}");
        assert!(!dir.path().join("tapline.toml").exists());
    }
    let url = format!("api_url={}", fake.api_url());
    let out = init(&["repository=octo/app", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("tapline.toml")).unwrap();
    assert!(text.contains("\ndefinitions = \"api.toml\""), "{text}");
    assert!(text.contains("pat = \"${TRACKER_PAT:-}\""), "{text}");
    assert!(
        !text.contains("[dbt]") && !dir.path().join("dbt").exists(),
        "{text}"
    );
    let out = tapline_at(dir.path(), "tapline.toml", &["run", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["records"]["issues"], 9);
    let out = std::process::Command::new(tapline())
        .args(["init", "--connector", "gitlub", "-c"])
        .arg(dir.path().join("other.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        errors(&out),
        [
            "tapline: error: --connector gitlub: unknown connector (shipped: github, gitlab, jira; or a definitions file, FILE.toml)"
        ]
    );
}
