//! What dbt costs a run once it starts only when it has work: the demo's pipeline (three
//! repositories on a fake GitHub, the managed dbt) run full, then with nothing new, then after
//! the demo's new activity. dbt starts are counted by a wrapper script around the real `dbt`.
//!
//! `cargo bench -p runner --bench dbt` (nothing-new runs: `-- 9`). Installs the managed dbt on
//! first use, like `tapline dbt install`.

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use fake_github::{FakeGithub, Mutation, RepoSize, RunningFake};

/// The demo's repositories: name, commits, issues.
const REPOS: [(&str, u32, u32); 3] = [
    ("octo/app", 3_000, 600),
    ("octo/api", 1_500, 300),
    ("octo/docs", 400, 80),
];

/// The demo's new activity per repository.
const ACTIVITY: Mutation = Mutation {
    new_commits: 40,
    update_issues: 12,
    new_issues: 6,
    ..Mutation::NONE
};

fn main() {
    let repeat: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dbt = tapline::dbt::venv::dbt_in(
        &tapline::dbt::venv::ensure(&root.join("dbt/requirements.txt"), &mut |l| {
            eprintln!("{l}")
        })
        .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let starts = dir.path().join("dbt-starts");
    let wrapper = dir.path().join("dbt-counting");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho start >> '{}'\nexec '{}' \"$@\"\n",
            starts.display(),
            dbt.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    copy_project(&root.join("dbt"), &dir.path().join("dbt"));

    let mut builder = FakeGithub::builder().seed(7);
    for (name, commits, issues) in REPOS {
        builder = builder.repo(name, RepoSize::new(commits, issues));
    }
    let fake = RunningFake::start_blocking(builder).unwrap();
    let repos: Vec<String> = REPOS.iter().map(|(n, ..)| format!("\"{n}\"")).collect();
    let pipeline = dir.path().join("tapline.toml");
    std::fs::write(
        &pipeline,
        format!(
            r#"name = "bench"
[tap]
executable = "tap-github"
config = {{ repositories = [{}], start_date = "2019-01-01T00:00:00Z", api_url = "{}" }}
[target]
executable = "target-sqlite"
config = {{ database = "github.db" }}
[dbt]
project_dir = "dbt"
executable = "{}"
"#,
            repos.join(", "),
            fake.api_url(),
            wrapper.display()
        ),
    )
    .unwrap();
    let count = || {
        std::fs::read_to_string(&starts)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let run = |args: &[&str]| -> f64 {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_tapline"))
            .args(["run", "-q", "-c"])
            .arg(&pipeline)
            .args(args)
            .output()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "tapline run {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        seconds
    };

    let full = run(&[]);
    let full_starts = count();
    let mut skipped = Vec::new();
    let mut without = Vec::new();
    for _ in 0..repeat {
        skipped.push(run(&[]));
        without.push(run(&["--dbt", "never"]));
    }
    let skipped_starts = count() - full_starts;
    for (name, ..) in REPOS {
        fake.mutate(name, ACTIVITY).unwrap();
    }
    let incremental = run(&[]);
    let incremental_starts = count() - full_starts - skipped_starts;

    println!("tapline run with dbt (the demo's 3 repositories, {repeat} nothing-new runs each)");
    println!("  full run:                    {full:6.2} s, dbt started {full_starts}x");
    println!(
        "  nothing new, dbt auto:       {:6.3} s median, {:.3} s best, dbt started {skipped_starts}x",
        median(&mut skipped),
        best(&skipped)
    );
    println!(
        "  nothing new, --dbt never:    {:6.3} s median, {:.3} s best (the fingerprint's cost is the difference)",
        median(&mut without),
        best(&without)
    );
    println!(
        "  after the demo's activity:   {incremental:6.2} s, dbt started {incremental_starts}x"
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The dbt project without what dbt writes into it.
fn copy_project(from: &Path, to: &PathBuf) {
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
