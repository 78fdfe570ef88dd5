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
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        sizes
    };
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{:>9} {:>7} {:>8} {:>10} {:>9}",
        "records", "run", "seconds", "records/s", "peak RSS"
    );
    for records in sizes {
        let input = dir.path().join(format!("commits-{records}.singer"));
        let mut out = BufWriter::new(std::fs::File::create(&input).unwrap());
        commits::write_stream(&mut out, records, 10_000).unwrap();
        out.flush().unwrap();
        drop(out);
        let db = dir.path().join(format!("bench-{records}.db"));
        let config = dir.path().join("config.json");
        std::fs::write(&config, serde_json::json!({"database": db}).to_string()).unwrap();
        for run in ["insert", "upsert"] {
            let started = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_target-sqlite"))
                .args([
                    "--config",
                    config.to_str().unwrap(),
                    "--input",
                    input.to_str().unwrap(),
                ])
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
                .unwrap_or("?");
            println!(
                "{records:>9} {run:>7} {secs:>8.2} {:>10.0} {peak:>6} MB",
                records as f64 / secs
            );
        }
    }
}
