//! Extraction benchmark against fake-github: 4 repositories × (2,000 commits, 800 issues and
//! pull requests), 20 ms latency per request, streams commits and issues, default config.
//! Prints wall time, requests (from the fake's stats) and records for a full run, an incremental
//! run after new activity, the first and a steady no-change run; the same series with the
//! definitions as they were before exact increments (dates only), and the requests the exact
//! rules add; the full run with more requests in flight than the default; then the full run of
//! singer-io `tap-github==4.0.0` (PyPI) as a baseline, measured in the same run, when Python can
//! be had. A second scenario reads one repository of 20,000 commits at 100 ms latency with its
//! pages one after the other (`max_concurrency` 1) and at the default concurrency.
//!
//! `cargo bench -p tap-github --bench extract`
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::{FakeGithub, RepoSize, RunningFake};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_tap-github");
const TOKEN: &str = "bench-token";
const REPOS: [&str; 4] = ["octo/alpha", "octo/beta", "octo/gamma", "octo/delta"];

struct Row {
    what: String,
    wall: Duration,
    requests: u64,
    not_modified: u64,
    records: usize,
}

/// One repository of this many commits for the second scenario…
const HUGE_COMMITS: u32 = 20_000;
/// …served at this latency.
const HUGE_LATENCY: Duration = Duration::from_millis(100);

/// A fresh fake with the benchmark's repositories.
fn fake() -> RunningFake {
    let mut builder = FakeGithub::builder()
        .seed(7)
        .token(TOKEN)
        .latency(Duration::from_millis(20));
    for r in REPOS {
        builder = builder.repo(r, RepoSize::new(2_000, 800));
    }
    RunningFake::start_blocking(builder).unwrap()
}

/// The embedded definitions as they were before exact increments: commits by committer date
/// only, ascending lists paged by the API's links.
fn dates_only() -> String {
    let text = tap_github::DEFINITIONS;
    let start = text.find("[stream.head]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    format!("{}{}", &text[..start], &text[end..]).replace("reanchor = true", "reanchor = false")
}

/// Full run, incremental run after new activity, the first quiet run and a steady quiet run,
/// each on the same fresh fake; `definitions` replaces the embedded ones.
fn series(label: &str, definitions: Option<&Path>, dir: &Path) -> (RunningFake, Vec<Row>) {
    let fake = fake();
    let config = dir.join(format!("{label}-config.json"));
    std::fs::write(
        &config,
        json!({"api_url": fake.api_url(), "auth_token": TOKEN, "repositories": REPOS}).to_string(),
    )
    .unwrap();
    let discovered = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--discover")
        .output()
        .unwrap();
    let mut catalog: singer::Catalog = serde_json::from_slice(&discovered.stdout).unwrap();
    catalog.select_only(&["commits", "issues"]);
    let catalog_path = dir.join("catalog.json");
    std::fs::write(&catalog_path, serde_json::to_string(&catalog).unwrap()).unwrap();

    let mut rows = Vec::new();
    let mut state: Option<Value> = None;
    for what in ["full", "incremental", "no change (first)", "no change"] {
        if what == "incremental" {
            for r in REPOS {
                let m = fake_github::Mutation {
                    new_commits: 20,
                    update_issues: 10,
                    new_issues: 5,
                    ..fake_github::Mutation::NONE
                };
                fake.mutate(r, m).unwrap();
            }
        }
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&config)
            .arg("--catalog")
            .arg(&catalog_path);
        if let Some(d) = definitions {
            cmd.arg("--definitions").arg(d);
        }
        if let Some(s) = &state {
            let p = dir.join("state.json");
            std::fs::write(&p, s.to_string()).unwrap();
            cmd.arg("--state").arg(p);
        }
        let (row, out) = measure(&fake, &format!("{label}: {what}"), cmd);
        state = out
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone());
        rows.push(row);
    }
    (fake, rows)
}

/// How long loading the GitHub definitions takes (parse, check, schemas), median of 50.
fn definitions_load() -> Duration {
    let mut took: Vec<Duration> = (0..50)
        .map(|_| {
            let started = Instant::now();
            let engine = tap_github::engine().unwrap();
            std::hint::black_box(engine);
            started.elapsed()
        })
        .collect();
    took.sort();
    took[took.len() / 2]
}

/// A full run of `streams` of `repos` against `fake` with `extra` config keys; the run of median
/// wall time of `runs`.
fn full_run(
    fake: &RunningFake,
    what: &str,
    (repos, streams): (&[&str], &[&str]),
    extra: Value,
    definitions: Option<&Path>,
    runs: usize,
    dir: &Path,
) -> Row {
    let mut config = json!({"api_url": fake.api_url(), "auth_token": TOKEN, "repositories": repos});
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    let config_path = dir.join("full-run-config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let discovered = Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .arg("--discover")
        .output()
        .unwrap();
    let mut catalog: singer::Catalog = serde_json::from_slice(&discovered.stdout).unwrap();
    catalog.select_only(streams);
    let catalog_path = dir.join("full-run-catalog.json");
    std::fs::write(&catalog_path, serde_json::to_string(&catalog).unwrap()).unwrap();
    let mut rows: Vec<Row> = (0..runs)
        .map(|_| {
            let mut cmd = Command::new(BIN);
            cmd.arg("--config")
                .arg(&config_path)
                .arg("--catalog")
                .arg(&catalog_path);
            if let Some(d) = definitions {
                cmd.arg("--definitions").arg(d);
            }
            measure(fake, what, cmd).0
        })
        .collect();
    rows.sort_by_key(|r| r.wall);
    rows.swap_remove(rows.len() / 2)
}

/// One repository of [`HUGE_COMMITS`] commits at [`HUGE_LATENCY`]: its commits with pages one
/// after the other, then at the default concurrency.
fn huge(dir: &Path) -> (Row, Row) {
    let builder = FakeGithub::builder()
        .seed(7)
        .token(TOKEN)
        .latency(HUGE_LATENCY)
        .repo("octo/huge", RepoSize::new(HUGE_COMMITS, 0));
    let fake = RunningFake::start_blocking(builder).unwrap();
    let run = |what: &str, extra: Value| {
        full_run(
            &fake,
            what,
            (&["octo/huge"], &["commits"]),
            extra,
            None,
            1,
            dir,
        )
    };
    let sequential = run(
        "20,000 commits: pages one after the other (max_concurrency 1)",
        json!({"max_concurrency": 1}),
    );
    let parallel = run("20,000 commits: default (max_concurrency 4)", json!({}));
    (sequential, parallel)
}

fn main() {
    let load = definitions_load();
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("dates-only.toml");
    std::fs::write(&old, dates_only()).unwrap();
    let (fake, mut rows) = series("tapline", None, dir.path());
    let (_, before) = series(
        "tapline, dates only (before exact increments)",
        Some(&old),
        dir.path(),
    );
    let extra: Vec<String> = rows
        .iter()
        .zip(&before)
        .map(|(now, then)| {
            let what = now.what.trim_start_matches("tapline: ");
            format!("{what}: {:+}", now.requests as i64 - then.requests as i64)
        })
        .collect();
    rows.extend(before);
    let one_by_one = dir.path().join("one-by-one.toml");
    std::fs::write(
        &one_by_one,
        tap_github::DEFINITIONS.replace(", page_param = \"page\"", ""),
    )
    .unwrap();
    for (what, extra, definitions) in [
        ("tapline: full, median of 3", json!({}), None),
        (
            "tapline: full, pages one after the other (no page_param), median of 3",
            json!({}),
            Some(one_by_one.as_path()),
        ),
        (
            "tapline: full, max_concurrency 8, median of 3",
            json!({"max_concurrency": 8}),
            None,
        ),
    ] {
        rows.push(full_run(
            &crate::fake(),
            what,
            (&REPOS, &["commits", "issues"]),
            extra,
            definitions,
            3,
            dir.path(),
        ));
    }
    match peer(&fake, dir.path()) {
        Ok(row) => rows.push(row),
        Err(why) => println!("singer-io tap-github 4.0.0 baseline skipped: {why}"),
    }
    println!(
        "\n4 repos x (2,000 commits, 800 issues+PRs), 20 ms latency, streams commits + issues;\nincremental = 20 new commits, 10 updated and 5 new issues per repository\n"
    );
    println!("| run | wall (s) | requests | 304s | records |");
    println!("|:--|--:|--:|--:|--:|");
    for r in &rows {
        println!(
            "| {} | {:.2} | {} | {} | {} |",
            r.what,
            r.wall.as_secs_f64(),
            r.requests,
            r.not_modified,
            r.records
        );
    }
    println!("\nrequests that exact increments add: {}", extra.join(", "));
    let (sequential, parallel) = huge(dir.path());
    println!(
        "\n1 repo x {HUGE_COMMITS} commits, {} ms latency, stream commits\n",
        HUGE_LATENCY.as_millis()
    );
    println!("| run | wall (s) | requests | records | of sequential |");
    println!("|:--|--:|--:|--:|--:|");
    for r in [&sequential, &parallel] {
        println!(
            "| {} | {:.2} | {} | {} | {:.0}% |",
            r.what,
            r.wall.as_secs_f64(),
            r.requests,
            r.records,
            100.0 * r.wall.as_secs_f64() / sequential.wall.as_secs_f64()
        );
    }
    println!(
        "loading the definitions (parse, check, 9 schemas): {:.2} ms (median of 50)",
        load.as_secs_f64() * 1e3
    );
    if let (Some(ours), Some(peer)) = (
        rows.first(),
        rows.iter().find(|r| r.what.starts_with("singer-io")),
    ) {
        println!(
            "\nfull run: {:.1}x faster than singer-io tap-github 4.0.0 (measured in this run)",
            peer.wall.as_secs_f64() / ours.wall.as_secs_f64(),
        );
    }
}

fn measure(fake: &RunningFake, what: &str, mut cmd: Command) -> (Row, String) {
    let before = fake.stats();
    let started = Instant::now();
    let out = cmd.stderr(Stdio::null()).output().unwrap();
    let wall = started.elapsed();
    assert!(out.status.success(), "{what} failed");
    let after = fake.stats();
    let text = String::from_utf8(out.stdout).unwrap();
    let records = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["type"] == "RECORD")
        .count();
    let n304 = |s: &fake_github::Stats| s.by_status.get(&304).copied().unwrap_or(0);
    let row = Row {
        what: what.to_owned(),
        wall,
        requests: after.total - before.total,
        not_modified: n304(&after) - n304(&before),
        records,
    };
    (row, text)
}

/// singer-io tap-github 4.0.0 in a cached venv, against the same fake.
fn peer(fake: &RunningFake, dir: &Path) -> Result<Row, String> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .ok_or("no HOME")?;
    let venv = cache.join("tapline/peers-tap-github-4.0.0");
    let tap = venv.join("bin/tap-github");
    if !tap.exists() {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .map_err(|e| format!("python3: {e}"))?
            .success();
        if !ok {
            return Err("python3 -m venv failed".into());
        }
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "tap-github==4.0.0"])
            .status()
            .map_err(|e| format!("pip: {e}"))?
            .success();
        if !ok || !tap.exists() {
            return Err("pip install tap-github==4.0.0 failed".into());
        }
    }
    let config = dir.join("peer-config.json");
    std::fs::write(&config, json!({"access_token": TOKEN, "repository": REPOS.join(" "), "start_date": "2000-01-01T00:00:00Z", "base_url": fake.api_url()}).to_string()).map_err(|e| e.to_string())?;
    let out = Command::new(&tap)
        .arg("--config")
        .arg(&config)
        .arg("--discover")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "discovery failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    let mut catalog: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    for s in catalog["streams"].as_array_mut().ok_or("no streams")? {
        let wanted = s["tap_stream_id"] == "commits" || s["tap_stream_id"] == "issues";
        for m in s["metadata"].as_array_mut().into_iter().flatten() {
            if m["breadcrumb"].as_array().is_some_and(Vec::is_empty) {
                m["metadata"]["selected"] = Value::Bool(wanted);
            }
        }
    }
    let properties = dir.join("peer-catalog.json");
    std::fs::write(&properties, catalog.to_string()).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&tap);
    cmd.arg("--config")
        .arg(&config)
        .arg("--properties")
        .arg(&properties);
    let (row, _) = measure(fake, "singer-io tap-github 4.0.0 full run", cmd);
    Ok(row)
}
