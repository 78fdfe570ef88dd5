//! Shared helpers: a fake GitHub, a config in a temporary folder, running the tap and reading
//! its Singer output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use fake_github::{FakeGithub, RepoSize, RunningFake};
use serde_json::{Map, Value, json};
use tempfile::TempDir;

pub use fake_github::Builder;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tap-github");

/// The token the fakes require.
pub const TOKEN: &str = "test-token";

/// Small repositories that still page (100 per page): `octo/app` and `octo/lib`.
pub fn two_repos() -> Builder {
    FakeGithub::builder()
        .seed(7)
        .org("octo")
        .token(TOKEN)
        .repo("octo/app", RepoSize::new(230, 130))
        .repo("octo/lib", RepoSize::new(120, 40))
}

pub fn start(builder: Builder) -> RunningFake {
    RunningFake::start_blocking(builder).unwrap()
}

/// A temporary folder with `config.json`: the fake's URL, the token, and `settings` over them.
pub fn setup(fake: &RunningFake, settings: Value) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut config = json!({"api_url": fake.api_url(), "auth_token": TOKEN, "repositories": ["octo/app", "octo/lib"]});
    for (k, v) in settings.as_object().unwrap() {
        config[k] = v.clone();
    }
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

pub fn config_path(dir: &TempDir) -> PathBuf {
    dir.path().join("config.json")
}

/// The tap with the folder's config.
pub fn cmd(dir: &TempDir) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config").arg(config_path(dir));
    cmd.env_remove("GITHUB_TOKEN").env_remove("TAPLINE_LOG");
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Runs the tap (with `state` if given) and expects success.
pub fn run_ok(dir: &TempDir, state: Option<&Value>, extra: &[&str]) -> Run {
    let mut c = cmd(dir);
    if let Some(state) = state {
        let path = dir.path().join("state.json");
        std::fs::write(&path, state.to_string()).unwrap();
        c.arg("--state").arg(path);
    }
    c.args(extra);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "tap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run::parse(&out)
}

/// One run's output.
#[derive(Debug, Default)]
pub struct Run {
    pub messages: Vec<Value>,
    pub stderr: String,
}

impl Run {
    pub fn parse(out: &Output) -> Run {
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        let messages = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}")))
            .collect();
        Run {
            messages,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Records of `stream`.
    pub fn records(&self, stream: &str) -> Vec<&Map<String, Value>> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .map(|m| m["record"].as_object().unwrap())
            .collect()
    }

    /// The value of the last STATE.
    pub fn last_state(&self) -> Value {
        self.messages
            .iter()
            .rev()
            .find(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone())
            .unwrap()
    }

    /// Every stream that has a RECORD.
    pub fn streams(&self) -> BTreeSet<String> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .map(|m| m["stream"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The key of a record of `stream`, as the catalog declares it.
pub fn key(stream: &str, r: &Map<String, Value>) -> String {
    let fields: &[&str] = match stream {
        "commits" => &["_sdc_repository", "sha"],
        "stargazers" | "contributors" => &["_sdc_repository", "user_id"],
        _ => &["id"],
    };
    fields
        .iter()
        .map(|f| r[*f].to_string())
        .collect::<Vec<_>>()
        .join("|")
}

/// Keys of `records`, asserting there is no duplicate.
pub fn unique_keys(stream: &str, records: &[&Map<String, Value>]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for r in records {
        assert!(
            seen.insert(key(stream, r)),
            "duplicate {stream} record {}",
            key(stream, r)
        );
    }
    seen
}

/// What the fake says each stream holds, as keys.
pub fn truth_keys(fake: &RunningFake, repos: &[&str]) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut out: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for repo in repos {
        let t = fake.truth(repo).unwrap();
        let r = json!(repo).to_string();
        out.entry("commits")
            .or_default()
            .extend(t.commits.iter().map(|c| format!("{r}|{}", json!(c.sha))));
        out.entry("issues")
            .or_default()
            .extend(t.issues.iter().map(|i| i.id.to_string()));
        out.entry("pull_requests").or_default().extend(
            t.issues
                .iter()
                .filter_map(|i| i.pr_id)
                .map(|id| id.to_string()),
        );
        out.entry("issue_comments")
            .or_default()
            .extend(t.comments.iter().map(|c| c.id.to_string()));
        out.entry("releases")
            .or_default()
            .extend(t.releases.iter().map(|r| r.id.to_string()));
        out.entry("stargazers")
            .or_default()
            .extend(t.stargazers.iter().map(|g| format!("{r}|{}", g.user_id)));
        out.entry("contributors")
            .or_default()
            .extend(t.contributors.iter().map(|c| format!("{r}|{}", c.user_id)));
        out.entry("pull_request_reviews")
            .or_default()
            .extend(t.reviews.iter().map(|v| v.id.to_string()));
    }
    out
}

/// A catalog from `--discover` with only `streams` selected.
pub fn catalog_selecting(dir: &TempDir, streams: &[&str]) -> Value {
    let out = cmd(dir).arg("--discover").output().unwrap();
    assert!(out.status.success());
    let mut catalog: singer::Catalog = serde_json::from_slice(&out.stdout).unwrap();
    catalog.select_only(streams);
    serde_json::to_value(catalog).unwrap()
}

/// Writes `value` to `name` in the folder and returns the path as a string.
pub fn write(dir: &TempDir, name: &str, value: &Value) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}
