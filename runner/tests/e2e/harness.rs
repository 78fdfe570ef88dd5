//! Processes and files of the end-to-end test: python3, the managed dbt venv, the tap and target
//! binaries, one temporary workspace with the raw database, dbt's schema folder and the state.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Fails with a clear message when python3 (3.10+) is missing: dbt runs in a venv made with it.
pub fn require_python() {
    let python = std::env::var("TAPLINE_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .args(["-c", "import sys, venv; print('%d.%d' % sys.version_info[:2]); sys.exit(sys.version_info < (3, 10))"])
        .output();
    match out {
        Err(e) => panic!(
            "`{python}` is required by the dbt end-to-end test (dbt runs in a venv made with \
             `{python} -m venv`) but cannot be run: {e}. Install Python 3.10+ with its venv module, \
             or point TAPLINE_PYTHON at one."
        ),
        Ok(o) if !o.status.success() => panic!(
            "`{python}` must be Python 3.10+ with the venv module for the dbt end-to-end test; it \
             reports {} {}",
            String::from_utf8_lossy(&o.stdout).trim(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(_) => {}
    }
}

/// The managed venv's `dbt`, installed by tapline's own installer when missing.
pub fn install_dbt() -> PathBuf {
    let requirements = repo_root().join("dbt").join("requirements.txt");
    let venv = tapline::dbt::venv::ensure(&requirements, &mut |line| eprintln!("e2e: {line}"))
        .unwrap_or_else(|e| {
            panic!(
                "installing dbt from {} failed: {e:#}",
                requirements.display()
            )
        });
    let dbt = tapline::dbt::venv::dbt_in(&venv);
    assert!(dbt.is_file(), "no dbt executable at {}", dbt.display());
    dbt
}

/// Paths of the real binaries.
pub struct Binaries {
    pub tap: PathBuf,
    pub target: PathBuf,
}

/// Builds `tap-github` and `target-sqlite` into the target folder this test runs from (a no-op
/// under `cargo test --workspace`, which has built them already) and returns their paths.
pub fn build_binaries() -> Binaries {
    // <target>/<profile>/deps/e2e-<hash>
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let target_dir = profile_dir.parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(&cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "tap-github",
        "-p",
        "target-sqlite",
        "--bins",
    ])
    .current_dir(repo_root())
    .env("CARGO_TARGET_DIR", &target_dir);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running `{cargo} build`: {e}"));
    assert!(
        status.success(),
        "`cargo build -p tap-github -p target-sqlite` failed: {status}"
    );
    let bins = Binaries {
        tap: profile_dir.join(format!("tap-github{}", std::env::consts::EXE_SUFFIX)),
        target: profile_dir.join(format!("target-sqlite{}", std::env::consts::EXE_SUFFIX)),
    };
    assert!(bins.tap.is_file(), "missing {}", bins.tap.display());
    assert!(bins.target.is_file(), "missing {}", bins.target.display());
    bins
}

/// A temporary folder holding one pipeline's files.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(api_url: &str, repos: &[&str]) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace { dir };
        std::fs::create_dir_all(ws.schema_dir()).unwrap();
        let tap = serde_json::json!({
            "repositories": repos,
            "api_url": api_url,
            "auth_token": "",
        });
        std::fs::write(ws.path("tap.json"), tap.to_string()).unwrap();
        let target = serde_json::json!({ "database": ws.database() });
        std::fs::write(ws.path("target.json"), target.to_string()).unwrap();
        ws
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The raw database, alone in its folder.
    pub fn database(&self) -> PathBuf {
        self.path("raw").join("github.db")
    }

    /// `TAPLINE_DBT_SCHEMA_DIR`: dbt-sqlite attaches every `*.db` in it.
    pub fn schema_dir(&self) -> PathBuf {
        self.path("dbt_schemas")
    }

    /// The file dbt-sqlite attaches as schema `main_dbt`.
    pub fn marts_db(&self) -> PathBuf {
        self.schema_dir().join("main_dbt.db")
    }

    /// `tap-github --config tap.json [--state state.json] | target-sqlite --config target.json`;
    /// returns the last state line the target printed.
    pub fn load(&self, bins: &Binaries, state: Option<&str>) -> String {
        let mut tap_cmd = Command::new(&bins.tap);
        tap_cmd.arg("--config").arg(self.path("tap.json"));
        if let Some(state) = state {
            std::fs::write(self.path("state.json"), state).unwrap();
            tap_cmd.arg("--state").arg(self.path("state.json"));
        }
        let mut tap = tap_cmd
            .env_remove("GITHUB_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", bins.tap.display()));
        let tap_out = tap.stdout.take().unwrap();
        let mut tap_err = tap.stderr.take().unwrap();
        let tap_err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = tap_err.read_to_string(&mut s);
            s
        });
        let target = Command::new(&bins.target)
            .arg("--config")
            .arg(self.path("target.json"))
            .stdin(Stdio::from(tap_out))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", bins.target.display()));
        let target = target.wait_with_output().unwrap();
        let tap_status = tap.wait().unwrap();
        let tap_err = tap_err.join().unwrap();
        let target_err = String::from_utf8_lossy(&target.stderr);
        assert!(
            tap_status.success() && target.status.success(),
            "tap-github | target-sqlite failed: tap {tap_status}, target {}\n--- tap stderr (tail)\n{}\n--- target stderr\n{target_err}",
            target.status,
            tail(&tap_err, 30),
        );
        let stdout = String::from_utf8(target.stdout).unwrap();
        let state = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_else(|| {
                panic!("target-sqlite printed no state\n--- target stderr\n{target_err}")
            });
        serde_json::from_str::<serde_json::Value>(state).unwrap();
        state.to_string()
    }

    /// `dbt build` with the runner's contract (TAPLINE_DATABASE, TAPLINE_DBT_SCHEMA_DIR); panics
    /// with dbt's output unless it succeeds; returns dbt's `Done. PASS=…` line.
    pub fn dbt_build(&self, dbt: &Path) -> String {
        let project = repo_root().join("dbt");
        let out = Command::new(dbt)
            .arg("build")
            .arg("--project-dir")
            .arg(&project)
            .arg("--profiles-dir")
            .arg(&project)
            .arg("--target-path")
            .arg(self.path("dbt_target"))
            .arg("--log-path")
            .arg(self.path("dbt_logs"))
            .current_dir(self.dir.path())
            .env("TAPLINE_DATABASE", self.database())
            .env("TAPLINE_DBT_SCHEMA_DIR", self.schema_dir())
            .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env_remove("DBT_PROFILES_DIR")
            .env_remove("DBT_TARGET_PATH")
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", dbt.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "dbt build failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let done = stdout
            .lines()
            .find_map(|l| l.find("Done. PASS=").map(|i| l[i..].trim().to_string()))
            .unwrap_or_else(|| panic!("no summary line in dbt's output:\n{stdout}"));
        assert!(
            done.contains(" ERROR=0 ") && done.contains(" SKIP=0 "),
            "dbt build: {done}\n{stdout}"
        );
        done
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
