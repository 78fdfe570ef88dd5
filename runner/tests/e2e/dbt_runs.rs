//! `tapline run` with the real dbt: it starts only when something it reads changed, says why
//! in the summary, prints one line instead of dbt's hundreds, keeps dbt's whole output in a log
//! file, and shows a failing test in full. dbt starts three times (~5 s each on a quiet
//! machine): a first run, `--dbt always -v`, and a real change with a failing test.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fake_github::{FakeGithub, Mutation, RepoSize, RunningFake};
use serde_json::Value;

use crate::harness::{self, Binaries};

const REPO: &str = "octo/small";

/// A pipeline folder: its file, a copy of the dbt project, the database.
struct Pipeline {
    dir: tempfile::TempDir,
}

impl Pipeline {
    fn new(api_url: &str, bins: &Binaries, dbt: &Path) -> Pipeline {
        let dir = tempfile::tempdir().unwrap();
        copy_project(&harness::repo_root().join("dbt"), &dir.path().join("dbt"));
        let toml = format!(
            r#"name = "e2e"
[tap]
executable = "{tap}"
config = {{ repositories = ["{REPO}"], api_url = "{api_url}", start_date = "2019-01-01T00:00:00Z" }}
[target]
executable = "{target}"
config = {{ database = "github.db" }}
[dbt]
project_dir = "dbt"
executable = "{dbt}"
"#,
            tap = bins.tap.display(),
            target = bins.target.display(),
            dbt = dbt.display(),
        );
        std::fs::write(dir.path().join("tapline.toml"), toml).unwrap();
        Pipeline { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `tapline run --output json ARGS`: exit code, the report, stderr.
    fn run(&self, args: &[&str]) -> (i32, Value, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_tapline"))
            .arg("run")
            .arg("-c")
            .arg(self.path("tapline.toml"))
            .args(["--output", "json"])
            .args(args)
            .env_remove("GITHUB_TOKEN")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let report: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}\n--- stderr\n{stderr}"));
        (out.status.code().unwrap_or(-1), report, stderr)
    }
}

/// The dbt project without what dbt writes into it.
fn copy_project(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if ["target", "logs", "dbt_packages"]
            .iter()
            .any(|g| name == *g)
        {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_project(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

fn decision(report: &Value) -> (bool, String) {
    let d = &report["dbt_decision"];
    (
        d["ran"]
            .as_bool()
            .unwrap_or_else(|| panic!("no dbt_decision: {report}")),
        d["reason"].as_str().unwrap().to_string(),
    )
}

fn dbt_steps(report: &Value) -> usize {
    report["dbt"].as_array().map_or(0, Vec::len)
}

fn records(report: &Value) -> u64 {
    report["records"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum()
}

#[test]
fn dbt_runs_only_when_it_has_work_and_fits_on_a_screen() {
    harness::require_python();
    let dbt = harness::install_dbt();
    let bins = harness::build_binaries();
    let fake = RunningFake::start_blocking(
        FakeGithub::builder()
            .seed(11)
            .repo(REPO, RepoSize::new(60, 20)),
    )
    .unwrap();
    let pipeline = Pipeline::new(&fake.api_url(), &bins, &dbt);
    let log = pipeline.path(".tapline/e2e/dbt.log");

    // 1. The first run builds: one line for dbt's ~100 nodes, everything in the log.
    let (code, report, stderr) = pipeline.run(&[]);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!(
        decision(&report),
        (
            true,
            "no earlier successful dbt run of this pipeline".into()
        )
    );
    assert_eq!(dbt_steps(&report), 1, "one dbt build: {report}");
    let line = "tests passed, 0 failed, 0 skipped (of ";
    let dbt_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("dbt ")).collect();
    assert_eq!(dbt_lines.len(), 1, "{stderr}");
    assert!(
        dbt_lines[0].starts_with("dbt build: ") && dbt_lines[0].contains(line),
        "{stderr}"
    );
    assert!(
        dbt_lines[0].ends_with(&format!("log: {}", log.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("START sql table model"), "{stderr}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("START sql table model main_dbt.stg_commits"),
        "{logged}"
    );
    assert!(logged.contains("Done. PASS="), "{logged}");

    // 2. Nothing new: the tap sends the full-table streams again (identical rows, new _sdc_*
    //    metadata), and dbt is not started.
    let (code, report, stderr) = pipeline.run(&[]);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert!(
        records(&report) > 0,
        "the tap re-sent nothing, so this proves nothing: {report}"
    );
    let (ran, reason) = decision(&report);
    assert!(!ran, "dbt ran: {reason}\n{stderr}");
    assert!(
        reason.starts_with("nothing dbt reads changed since its last successful run ("),
        "{reason}"
    );
    assert_eq!(dbt_steps(&report), 0);

    // 3. `--dbt never`, even after a change.
    fake.mutate(
        REPO,
        Mutation {
            new_commits: 3,
            ..Default::default()
        },
    )
    .unwrap();
    let (code, report, _) = pipeline.run(&["--dbt", "never"]);
    assert_eq!(code, 0);
    assert_eq!(decision(&report), (false, "--dbt never".into()));

    // 4. `--dbt always -v`: builds although nothing changed since the last load, and shows
    //    every line.
    let (code, report, stderr) = pipeline.run(&["--dbt", "always", "-v"]);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!(decision(&report), (true, "--dbt always".into()));
    assert!(
        stderr.contains("START sql table model main_dbt.stg_commits"),
        "{stderr}"
    );

    // 5. A real change and a failing test: dbt builds, says why, fails with exit 3, and the
    //    failure is shown in full while passing nodes are not.
    fake.mutate(
        REPO,
        Mutation {
            new_commits: 2,
            ..Default::default()
        },
    )
    .unwrap();
    std::fs::write(
        pipeline.path("dbt/tests/assert_e2e_fails.sql"),
        "select sha from {{ ref('stg_commits') }} limit 2\n",
    )
    .unwrap();
    let (code, report, stderr) = pipeline.run(&[]);
    assert_eq!(code, 3, "{report}\n{stderr}");
    let (ran, reason) = decision(&report);
    assert!(ran);
    assert!(
        reason.starts_with("changed since its last successful run: ")
            && reason.contains("table commits")
            && reason.contains("dbt project files"),
        "{reason}"
    );
    for shown in [
        "FAIL 2 assert_e2e_fails",
        "Failure in test assert_e2e_fails (tests/assert_e2e_fails.sql)",
        "Got 2 results, configured to fail if != 0",
        "compiled code at",
        "Done. PASS=",
    ] {
        assert!(stderr.contains(shown), "`{shown}` not shown:\n{stderr}");
    }
    assert!(
        !stderr.contains("PASS not_null_stg_commits_sha"),
        "{stderr}"
    );
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains(&log.display().to_string()),
        "{report}"
    );
    // Under 40 lines of dbt on the screen for ~100 nodes (most skipped after the failure).
    let dbt_shown = stderr
        .lines()
        .filter(|l| !l.starts_with('[') && !l.starts_with("tapline"))
        .count();
    assert!(dbt_shown < 40, "{dbt_shown} lines:\n{stderr}");
}
