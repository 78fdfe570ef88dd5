//! `tapline run` against `meltano run` on the same workload, measured side by side in one run.
//!
//! The workload: fake-github with 4 repositories × (2,000 commits, 800 issues and pull
//! requests) at 20 ms latency per request; the pipelines load the streams commits and issues.
//! Each repetition starts a fresh fake and a fresh pipeline, then times a full run, a run with
//! nothing new, and an incremental run after new activity (20 new commits, 10 updated and 5 new
//! issues per repository); the series runs without dbt, then with `dbt build` of the project in
//! `dbt/` (the models and tests over those two streams). Each side is warmed up once first; each figure is the median of the repetitions.
//!
//! The Meltano side is `meltano run tap-github target-csv`: MeltanoLabs tap-github and
//! MeltanoLabs target-csv from PyPI, pinned (the interop suite's venvs, `tests/interop/venv.sh`).
//! No SDK target for SQLite is on PyPI, so the ratio compares an extract-and-load into SQLite
//! with one into CSV files, the cheapest load an SDK target does. dbt cannot read CSV files: the
//! Meltano side's dbt step runs the same `dbt build`, with the same dbt, on a copy of the SQLite
//! database the tapline side loaded, so both sides' dbt steps do the same work.
//!
//! `cargo bench -p runner --bench pipeline` (repetitions: `-- 5`; tapline only: `-- --no-peers`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

#[path = "pipeline/meltano.rs"]
mod meltano;
#[path = "pipeline/ours.rs"]
mod ours;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fake_github::{FakeGithub, Mutation, RepoSize, RunningFake};

/// Repositories of the workload, each with 2,000 commits and 800 issues and pull requests.
const REPOS: [&str; 4] = ["octo/alpha", "octo/beta", "octo/gamma", "octo/delta"];
/// New activity per repository before the incremental run.
const ACTIVITY: Mutation = Mutation {
    new_commits: 20,
    update_issues: 10,
    new_issues: 5,
    ..Mutation::NONE
};
/// The dbt step of both sides: `dbt build` of the models over the loaded streams (commits and
/// issues) and their tests, less what also reads a stream that is not loaded.
const DBT_BUILD: &str = "build --select stg_commits+ stg_issues+ --exclude stg_repositories+ stg_issue_comments+ stg_pull_requests+";
/// The runs of one repetition, in order.
const RUNS: [&str; 3] = ["full", "nothing new", "incremental"];

/// A pipeline that can be reset onto a fresh fake and run.
trait Side {
    /// The side's name in the table.
    fn name(&self) -> String;
    /// Forgets bookmarks and loaded data; the next run is a full one against `fake`.
    fn reset(&mut self, fake: &RunningFake, dbt: bool);
    /// One run; panics with the side's output when it fails.
    fn run(&mut self);
}

/// One timed run: wall seconds and requests the fake answered.
#[derive(Clone, Copy)]
struct Sample {
    seconds: f64,
    requests: u64,
}

/// A fresh fake with the workload.
fn fake() -> RunningFake {
    let mut builder = FakeGithub::builder()
        .seed(7)
        .latency(Duration::from_millis(20));
    for r in REPOS {
        builder = builder.repo(r, RepoSize::new(2_000, 800));
    }
    RunningFake::start_blocking(builder).unwrap()
}

/// Samples of each run of [`RUNS`], one per repetition.
fn series(side: &mut dyn Side, dbt: bool, repeat: usize) -> Vec<Vec<Sample>> {
    let mut samples = vec![Vec::new(); RUNS.len()];
    for _ in 0..repeat {
        let fake = fake();
        side.reset(&fake, dbt);
        for (i, what) in RUNS.iter().enumerate() {
            if *what == "incremental" {
                for r in REPOS {
                    fake.mutate(r, ACTIVITY).unwrap();
                }
            }
            let before = fake.stats().total;
            let started = Instant::now();
            side.run();
            samples[i].push(Sample {
                seconds: started.elapsed().as_secs_f64(),
                requests: fake.stats().total - before,
            });
        }
    }
    samples
}

/// The median sample by time.
fn median(samples: &[Sample]) -> Sample {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    sorted[sorted.len() / 2]
}

/// Runs `command`, panicking with its output when it fails.
fn checked(what: &str, command: &mut Command) -> Output {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The repository's dbt project copied into `to` (dbt writes `target/` and `logs/` beside it).
fn copy_dbt_project(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbt");
    copy_tree(&from, to);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if ["target", "logs", "dbt_packages"].contains(&name.to_str().unwrap_or("")) {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Removes and recreates `dir`.
fn fresh_dir(dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    dir.to_path_buf()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repeat: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(3).max(1);
    let with_peers = !args.iter().any(|a| a == "--no-peers");
    let dir = tempfile::tempdir().unwrap();
    let mut tapline = ours::Tapline::new(&dir.path().join("tapline"));
    let mut peer = if with_peers {
        match meltano::Meltano::new(&dir.path().join("meltano"), &tapline) {
            Ok(m) => Some(m),
            Err(why) => {
                println!("meltano side skipped: {why}");
                None
            }
        }
    } else {
        None
    };

    println!("warming up (a full run with dbt on each side, not counted)");
    let warm = fake();
    tapline.reset(&warm, true);
    tapline.run();
    if let Some(m) = peer.as_mut() {
        m.reset(&warm, true);
        m.run();
    }
    drop(warm);

    let mut table = Vec::new();
    for dbt in [false, true] {
        println!("{} dbt: tapline run", if dbt { "with" } else { "without" });
        let ours = series(&mut tapline, dbt, repeat);
        let theirs = peer.as_mut().map(|m| {
            println!("{} dbt: meltano run", if dbt { "with" } else { "without" });
            series(m, dbt, repeat)
        });
        for (i, what) in RUNS.iter().enumerate() {
            let label = format!("{what}, {}", if dbt { "with dbt" } else { "no dbt" });
            table.push((
                label,
                ours[i].clone(),
                theirs.as_ref().map(|t| t[i].clone()),
            ));
        }
    }

    let peer_name = peer
        .as_ref()
        .map_or("meltano run (skipped)".into(), |m| m.name());
    println!(
        "\n4 repos x (2,000 commits, 800 issues+PRs), 20 ms latency, streams commits + issues;\nincremental = 20 new commits, 10 updated and 5 new issues per repository; dbt = `dbt {DBT_BUILD}`;\nmedian of {repeat} runs each (every run's seconds in brackets), requests as the fake counted them\n"
    );
    println!("| run | `{}` | {} | ratio |", tapline.name(), peer_name);
    println!("|:--|--:|--:|--:|");
    let mut ratios = Vec::new();
    for (label, ours, theirs) in &table {
        let o = median(ours);
        let (peer_cell, ratio) = match theirs {
            Some(t) => {
                let m = median(t);
                let ratio = m.seconds / o.seconds;
                ratios.push((label.clone(), ratio));
                (cell(m, t), format!("{ratio:.1}×"))
            }
            None => ("–".into(), "–".into()),
        };
        println!("| {label} | {} | {peer_cell} | {ratio} |", cell(o, ours));
    }
    let goal = |label: &str, want: f64| {
        if let Some((_, r)) = ratios.iter().find(|(l, _)| l == label) {
            let verdict = if *r >= want { "met" } else { "not met" };
            println!("goal: {label} ≥ {want}× faster than Meltano: {r:.1}×, {verdict}");
        }
    };
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let minutes: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "\nload average (1 / 5 / 15 minutes) at the end: {}",
            minutes.join(" / ")
        );
    }
    println!();
    goal("full, no dbt", 25.0);
    goal("nothing new, with dbt", 10.0);
}

/// `1.23 s, 120 requests [1.20 1.23 1.31]`.
fn cell(median: Sample, all: &[Sample]) -> String {
    let each: Vec<String> = all.iter().map(|s| format!("{:.2}", s.seconds)).collect();
    format!(
        "{:.2} s, {} requests [{}]",
        median.seconds,
        median.requests,
        each.join(" ")
    )
}
