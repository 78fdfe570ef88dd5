//! Load benchmark: GitHub-commit-shaped records (target-sqlite's generator, about 1.1 KB each,
//! nested) through the real `target-postgres` binary with the default settings (validation on)
//! into a throwaway PostgreSQL (fsync on): first into a new table, then again into the same
//! table (all upserts), best and median of 3 runs (2 at 1M). Then the same 20,000-record subset through MeltanoLabs target-postgres
//! 0.8.1 (pinned, installed once into a cached venv) and through ours, and the ratio.
//!
//! `cargo bench -p target-postgres --bench load` (sizes: `-- 100000 1000000`; `-- --no-peer`
//! skips the MeltanoLabs comparison).

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

#[path = "../testsupport/cluster.rs"]
mod cluster;
#[path = "../../target-sqlite/benches/support/commits.rs"]
mod commits;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::json;

/// Records of the comparison with MeltanoLabs target-postgres.
const PEER_RECORDS: u64 = 20_000;

/// Measurements per size (the best and the median are printed): fewer for the long runs.
fn repeat(records: u64) -> usize {
    if records > 200_000 { 2 } else { 3 }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<u64> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        sizes
    };
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{:>9} {:>7} {:>13} {:>15} {:>17} {:>9}",
        "records", "run", "best seconds", "best records/s", "median records/s", "peak RSS"
    );
    for records in sizes {
        let input = stream(dir.path(), records);
        let mut results: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..repeat(records) {
            let db = cluster::database();
            let config = config(dir.path(), &db, "tap");
            for result in &mut results {
                result.push(load(&config, &input));
            }
            let rows: i64 = db
                .client()
                .query_one("SELECT count(*) FROM tap.commits", &[])
                .unwrap()
                .get(0);
            assert_eq!(rows as u64, records);
            db.client()
                .batch_execute("DROP SCHEMA tap CASCADE")
                .unwrap();
        }
        for (run, mut result) in ["insert", "upsert"].into_iter().zip(results) {
            result.sort_by(|a, b| a.0.total_cmp(&b.0));
            let best = result[0].0;
            let median = result[result.len() / 2].0;
            let peak = result.iter().map(|r| r.1).fold(0.0, f64::max);
            println!(
                "{records:>9} {run:>7} {best:>13.2} {:>15.0} {:>17.0} {peak:>6.1} MB",
                records as f64 / best,
                records as f64 / median
            );
        }
    }
    if args.iter().any(|a| a == "--no-peer") {
        return;
    }
    let input = stream(dir.path(), PEER_RECORDS);
    let Some(peer) = peer_venv() else {
        println!("MeltanoLabs target-postgres: venv not available (python3 -m venv failed)");
        return;
    };
    let db = cluster::database();
    let peer_config = dir.path().join("peer.json");
    std::fs::write(
        &peer_config,
        json!({
            "sqlalchemy_url": format!("postgresql+psycopg://postgres@/{}?host={}", db.name, db.host.display()),
            "default_target_schema": "peer"
        })
        .to_string(),
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(peer.join("bin/target-postgres"))
        .arg("--config")
        .arg(&peer_config)
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let peer_secs = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "MeltanoLabs target-postgres failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer_rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM peer.commits", &[])
        .unwrap()
        .get(0);
    assert_eq!(peer_rows as u64, PEER_RECORDS);
    // Ours, best of three, each into a new table.
    let mut secs = f64::INFINITY;
    for attempt in 0..3 {
        let ours = config(dir.path(), &db, &format!("ours{attempt}"));
        secs = secs.min(load(&ours, &input).0);
    }
    println!(
        "{PEER_RECORDS} records, new table: MeltanoLabs target-postgres 0.8.1 {peer_secs:.2} s \
         ({:.0} records/s), target-postgres (best of 3) {secs:.2} s ({:.0} records/s): {:.1}x",
        PEER_RECORDS as f64 / peer_secs,
        PEER_RECORDS as f64 / secs,
        peer_secs / secs
    );
}

/// Writes the stream of `records` records (a STATE every 10,000) into a file.
fn stream(dir: &Path, records: u64) -> PathBuf {
    let input = dir.join(format!("commits-{records}.singer"));
    let mut out = BufWriter::new(std::fs::File::create(&input).unwrap());
    commits::write_stream(&mut out, records, 10_000).unwrap();
    out.flush().unwrap();
    input
}

fn config(dir: &Path, db: &cluster::Database, schema: &str) -> PathBuf {
    let path = dir.join(format!("{}-{schema}.json", db.name));
    let mut config = db.settings();
    config["schema"] = json!(schema);
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// Loads `input` with the real binary; returns seconds and peak RSS in MB.
fn load(config: &Path, input: &Path) -> (f64, f64) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_target-postgres"))
        .arg("--config")
        .arg(config)
        .arg("--input")
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "target-postgres failed: {stderr}");
    let peak = stderr
        .lines()
        .find_map(|l| l.split("peak RSS ").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    (secs, peak)
}

/// The cached venv with MeltanoLabs target-postgres, installed from the pinned requirements
/// on first use: `${XDG_CACHE_HOME:-~/.cache}/tapline/bench-target-postgres-<hash>`.
fn peer_venv() -> Option<PathBuf> {
    use sha2::Digest as _;
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/requirements-meltanolabs-target-postgres.txt");
    let text = std::fs::read(&requirements).unwrap();
    let hash: String = sha2::Sha256::digest(&text)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?
        .join("tapline");
    let venv = cache.join(format!("bench-target-postgres-{hash}"));
    if venv.join(".complete").exists() {
        return Some(venv);
    }
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::create_dir_all(&cache).ok()?;
    println!(
        "installing MeltanoLabs target-postgres into {}",
        venv.display()
    );
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements)
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    std::fs::write(venv.join(".complete"), "").ok()?;
    Some(venv)
}
