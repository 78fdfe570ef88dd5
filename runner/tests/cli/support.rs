//! A pipeline folder, the binaries and fake-github for each test.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fake_github::{FakeGithub, RepoSize, RunningFake};

/// `tapline`, and the tap and target built beside it by `cargo test --workspace`.
pub fn tapline() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tapline"))
}

/// A binary of another workspace crate, next to `tapline`.
pub fn sibling(name: &str) -> PathBuf {
    let path = tapline().with_file_name(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` (or `cargo test --workspace`) first",
        path.display()
    );
    path
}

/// A fake GitHub with `repos` of the given sizes and an optional latency per request.
pub fn fake(repos: &[(&str, u32, u32)], latency_ms: u64, token: Option<&str>) -> RunningFake {
    let mut builder = FakeGithub::builder()
        .seed(7)
        .latency(Duration::from_millis(latency_ms));
    for (name, commits, issues) in repos {
        builder = builder.repo(*name, RepoSize::new(*commits, *issues));
    }
    if let Some(token) = token {
        builder = builder.token(token);
    }
    RunningFake::start_blocking(builder).expect("fake-github starts")
}

/// A temporary pipeline folder.
pub struct Pipeline {
    pub dir: tempfile::TempDir,
}

impl Pipeline {
    /// Writes `tapline.toml` for tap-github on `repos` of `fake` into target-sqlite.
    pub fn github(fake: &RunningFake, repos: &[&str], extra_tap: &str, extra: &str) -> Self {
        let repos: Vec<String> = repos.iter().map(|r| format!("\"{r}\"")).collect();
        let text = format!(
            r#"name = "github"
[tap]
executable = "{tap}"
config = {{ repositories = [{repos}], start_date = "2019-01-01T00:00:00Z", api_url = "{api}"{extra_tap} }}
[target]
executable = "{target}"
config = {{ database = "data/github.db" }}
{extra}"#,
            tap = sibling("tap-github").display(),
            target = sibling("target-sqlite").display(),
            repos = repos.join(", "),
            api = fake.api_url(),
        );
        Self::with_text(&text)
    }

    /// A pipeline folder with this `tapline.toml`.
    pub fn with_text(text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tapline.toml"), text).unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `tapline ARGS -c <this pipeline>`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(tapline());
        cmd.args(args)
            .arg("-c")
            .arg(self.path().join("tapline.toml"));
        cmd
    }

    /// Runs `tapline ARGS` to the end.
    pub fn tapline(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The loaded database.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path().join("data/github.db")).unwrap()
    }

    /// `SELECT <column> FROM <table>` as a set of strings, asserting no duplicates.
    pub fn keys(&self, table: &str, column: &str) -> BTreeSet<String> {
        let db = self.db();
        let mut stmt = db
            .prepare(&format!("SELECT CAST({column} AS TEXT) FROM {table}"))
            .unwrap();
        let all: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let set: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(set.len(), all.len(), "duplicate keys in {table}");
        set
    }

    /// Rows of `table`: 0 when the database or the table does not exist (nothing was loaded);
    /// any other SQL error fails the test.
    pub fn rows(&self, table: &str) -> i64 {
        let path = self.path().join("data/github.db");
        if !path.exists() {
            return 0;
        }
        let db = self.db();
        let exists: i64 = db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if exists == 0 {
            return 0;
        }
        db.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("counting {table}: {e}"))
    }

    /// The stored state, as `tapline state show` prints it; `None` when there is none. Output
    /// that is not JSON fails the test.
    pub fn state(&self) -> Option<serde_json::Value> {
        let out = self.tapline(&["state", "show"]);
        assert!(
            out.status.success(),
            "state show: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("state show prints UTF-8");
        if text.trim().is_empty() || text.trim() == "{}" {
            return None;
        }
        Some(
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("state show printed no JSON ({e}): {text}")),
        )
    }
}

/// Commit shas and issue ids of `repo` according to the fake.
pub fn truth_keys(fake: &RunningFake, repo: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let truth = fake.truth(repo).unwrap();
    (
        truth.commits.iter().map(|c| c.sha.clone()).collect(),
        truth.issues.iter().map(|i| i.id.to_string()).collect(),
    )
}

/// Waits until `check` holds, for at most `limit`.
pub fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Direct children of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Whether process `pid` still exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes an executable shell script `name` into the pipeline folder.
pub fn script(p: &Pipeline, name: &str, body: &str) {
    let path = p.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A pipeline whose tap is `./tap.sh` (see [`script`]) loading target-sqlite, plus `extra`.
pub fn script_pipeline(extra: &str) -> Pipeline {
    Pipeline::with_text(&format!(
        r#"name = "script"
[tap]
executable = "./tap.sh"
[target]
executable = "{}"
config = {{ database = "data/github.db" }}
{extra}"#,
        sibling("target-sqlite").display()
    ))
}

/// Sends `sig` to process `pid`, which must exist.
pub fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap();
}
