//! Chaos: a long pipeline runs in rounds while fake-github churns; each round SIGKILLs tapline,
//! the tap or the target at a random moment inside the run. Then the source calms down and one
//! quiet run must leave the database equal to the truth, every stream, every compared field.
//!
//! The seed comes from `TAPLINE_CHAOS_SEED` (else the clock) and is printed, so a failure can be
//! replayed; `TAPLINE_CHAOS_ROUNDS` sets the rounds (the soak script `runner/tests/chaos-soak.sh`
//! runs many). Kills are aimed inside an undisturbed run: a full run measured first, then the
//! latest round that a kill missed (a run left untouched is a measurement of the next, shorter,
//! incremental one). The test counts how many kills hit a live process.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fake_github::{FakeGithub, IssueCursor, RepoSize, RunningFake};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::*;
use crate::truth::assert_equals_truth;

const REPOS: [&str; 3] = ["octo/a", "octo/b", "octo/c"];
const STREAMS: [&str; 7] = [
    "commits",
    "issues",
    "pull_requests",
    "issue_comments",
    "releases",
    "stargazers",
    "contributors",
];
const CHURN: &str =
    "churn:every=7:issues=2:pulls=1:comments=2:commits=2:old_commits=1:age_s=31536000";

/// A small deterministic generator (xorshift64*), so the test needs no crate for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn fake(faults: &str) -> RunningFake {
    let mut builder = FakeGithub::builder()
        .seed(23)
        .latency(Duration::from_millis(8))
        .issue_cursor(IssueCursor::Offset);
    for repo in REPOS {
        builder = builder.repo(repo, RepoSize::new(700, 300));
    }
    if !faults.is_empty() {
        builder = builder.faults(faults.parse().unwrap());
    }
    RunningFake::start_blocking(builder).expect("fake-github starts")
}

/// Every stream but `pull_request_reviews`: a review list per pull request read, while the churn
/// keeps touching pull requests, doubles the length of every run (and the test's to ~18 s);
/// `disturbed` checks reviews under change, tap-github's `crash` under a kill.
const SELECT: &str = r#"select = ["repositories", "commits", "issues", "pull_requests", "issue_comments", "releases", "stargazers", "contributors"]"#;

fn pipeline(fake: &RunningFake) -> Pipeline {
    let p = Pipeline::github(fake, &REPOS, ", max_concurrency = 2", "");
    let file = p.path().join("tapline.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("[tap]\n", &format!("[tap]\n{SELECT}\n"), 1),
    )
    .unwrap();
    p
}

/// How long an undisturbed full run of the same pipeline takes.
fn undisturbed_run() -> Duration {
    let fake = fake("");
    let p = pipeline(&fake);
    let started = Instant::now();
    let out = p.tapline(&["run", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    started.elapsed()
}

/// The pid of tapline's child whose command line names `program`.
fn child_named(tapline: u32, program: &str) -> Option<u32> {
    children(tapline).into_iter().find(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.contains(program))
    })
}

#[test]
fn killed_at_random_while_the_source_changes_then_one_quiet_run_equals_the_truth() {
    let seed: u64 = std::env::var("TAPLINE_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
        | 1;
    let rounds: u32 = std::env::var("TAPLINE_CHAOS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    eprintln!("chaos: TAPLINE_CHAOS_SEED={seed} TAPLINE_CHAOS_ROUNDS={rounds}");
    let budget = undisturbed_run();
    eprintln!("chaos: an undisturbed full run takes {budget:.2?}");

    let fake = fake(CHURN);
    let p = pipeline(&fake);
    let mut rng = Rng(seed);
    let mut landed = 0;
    let mut completed = 0;
    let mut estimate = budget;
    for round in 0..rounds {
        let started = Instant::now();
        let mut run = p
            .command(&["run", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let victim = ["tapline", "tap-github", "target-sqlite"][rng.below(3) as usize];
        let aim = Duration::from_millis(rng.below(estimate.as_millis() as u64 * 4 / 5));
        std::thread::sleep(aim);
        let tapline = run.id();
        let before: Vec<u32> = children(tapline);
        let pid = match victim {
            "tapline" => Some(tapline).filter(|p| alive(*p)),
            program => child_named(tapline, program),
        };
        let hit = pid
            .filter(|pid| alive(*pid))
            .is_some_and(|pid| kill(Pid::from_raw(pid as i32), Signal::SIGKILL).is_ok());
        let status = run.wait().unwrap();
        let took = started.elapsed();
        // Children die with tapline; wait until they are gone before the next round.
        assert!(
            wait_for(Duration::from_secs(10), || before
                .iter()
                .all(|c| !alive(*c))),
            "children of a killed tapline linger"
        );
        if hit {
            landed += 1;
        } else if status.success() {
            completed += 1;
            estimate = took;
        }
        eprintln!(
            "chaos: round {round}: kill {victim} after {aim:.0?}: {} (exit {:?})",
            if hit { "landed" } else { "missed" },
            status.code()
        );
    }
    eprintln!(
        "chaos: {landed} of {rounds} kills hit a live process; {completed} runs completed untouched; {} churns",
        fake.stats().churns
    );
    assert!(
        landed * 3 >= rounds,
        "too few kills landed mid-run ({landed} of {rounds}): the aim is off"
    );

    fake.world().set_calm(true);
    let out = p.tapline(&["run", "--quiet"]);
    assert!(out.status.success(), "quiet run: {}", stderr(&out));
    let rows = assert_equals_truth(&p.db(), &fake, &REPOS, &STREAMS);
    eprintln!("chaos: the database equals the truth ({rows} rows compared)");
}
