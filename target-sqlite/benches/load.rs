//! Load benchmark: GitHub-commit-shaped records through the real `target-sqlite` binary with
//! the default configuration (validation on), first into an empty database, then again (all
//! upserts). Prints records/s and the loader's peak RSS.
//!
//! `cargo bench -p target-sqlite --bench load` (sizes: `-- 100000 1000000`; `-- --emit N` prints
//! the stream instead).

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

#[path = "support/commits.rs"]
mod commits;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args
        .iter()
        .position(|a| a == "--emit")
        .and_then(|i| args.get(i + 1))
    {
        // Print the stream instead of loading it, for profiling the binary by hand.
        let mut out = BufWriter::new(std::io::stdout().lock());
        commits::write_stream(&mut out, n.parse().unwrap(), 10_000).unwrap();
        return;
    }
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
        let input = dir.path().join(format!("commits-{records}.singer"));
        let mut out = BufWriter::new(std::fs::File::create(&input).unwrap());
        commits::write_stream(&mut out, records, 10_000).unwrap();
        out.flush().unwrap();
        drop(out);
        let config = dir.path().join("config.json");
        let mut results: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
        for attempt in 0..REPEAT {
            let db = dir.path().join(format!("bench-{records}-{attempt}.db"));
            std::fs::write(&config, serde_json::json!({"database": db}).to_string()).unwrap();
            for result in &mut results {
                result.push(load(&config, &input));
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
        for (run, mut result) in ["insert", "upsert"].into_iter().zip(results) {
            result.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (best, _) = result[0];
            let median = result[result.len() / 2].0;
            let peak = result.iter().map(|r| r.1).fold(0.0, f64::max);
            println!(
                "{records:>9} {run:>7} {best:>13.2} {:>15.0} {:>17.0} {peak:>6.1} MB",
                records as f64 / best,
                records as f64 / median
            );
        }
    }
}

/// Measurements per size: the best and the median are printed.
const REPEAT: usize = 3;

/// Loads `input` with the real binary; returns seconds and peak RSS in MB.
fn load(config: &Path, input: &Path) -> (f64, f64) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_target-sqlite"))
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
    assert!(output.status.success(), "target-sqlite failed: {stderr}");
    let peak = stderr
        .lines()
        .find_map(|l| l.split("peak RSS ").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    (secs, peak)
}
