//! What tapline costs between a tap and a target: the same Singer stream of GitHub-commit-shaped
//! records loaded by target-sqlite through a shell pipe (`cat FILE | target-sqlite`) and through
//! `tapline run` (a tap that is `cat FILE`), best of 3 each.
//!
//! `cargo bench -p runner --bench overhead` (records: `-- 1000000`). Needs `cargo build --release
//! -p target-sqlite` first (the bench says so if it is missing).

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

#[path = "../../target-sqlite/benches/support/commits.rs"]
mod commits;

use std::io::{BufWriter, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const REPEAT: usize = 3;

fn main() {
    let records: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let tapline = Path::new(env!("CARGO_BIN_EXE_tapline"));
    let target = tapline.with_file_name("target-sqlite");
    assert!(
        target.is_file(),
        "build target-sqlite first: cargo build --release -p target-sqlite"
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("commits.singer");
    let mut out = BufWriter::new(std::fs::File::create(&input).unwrap());
    commits::write_stream(&mut out, records, 10_000).unwrap();
    out.flush().unwrap();
    drop(out);
    let tap = dir.path().join("tap.sh");
    std::fs::write(&tap, format!("#!/bin/sh\nexec cat '{}'\n", input.display())).unwrap();
    std::fs::set_permissions(&tap, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut pipe = Vec::new();
    let mut through = Vec::new();
    for attempt in 0..REPEAT {
        let db = dir.path().join(format!("pipe-{attempt}.db"));
        std::fs::write(
            dir.path().join("target.json"),
            serde_json::json!({"database": db}).to_string(),
        )
        .unwrap();
        let script = format!(
            "cat '{}' | '{}' --config '{}' > /dev/null",
            input.display(),
            target.display(),
            dir.path().join("target.json").display()
        );
        pipe.push(time(Command::new("sh").args(["-c", &script])));
        remove_db(&db);

        let db = dir.path().join(format!("tapline-{attempt}.db"));
        let pipeline = dir.path().join("tapline.toml");
        std::fs::write(
            &pipeline,
            format!(
                "name = \"bench-{attempt}\"\n[tap]\nexecutable = \"{}\"\n[target]\nexecutable = \"{}\"\nconfig = {{ database = \"{}\" }}\n",
                tap.display(),
                target.display(),
                db.display()
            ),
        )
        .unwrap();
        through.push(time(
            Command::new(tapline).arg("run").arg("-c").arg(&pipeline),
        ));
        remove_db(&db);
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (a, b) = (best(&pipe), best(&through));
    println!("{records} records, best of {REPEAT}");
    println!(
        "{:<28} {:>8.2} s {:>10.0} records/s",
        "cat | target-sqlite",
        a,
        records as f64 / a
    );
    println!(
        "{:<28} {:>8.2} s {:>10.0} records/s",
        "tapline run (tap = cat)",
        b,
        records as f64 / b
    );
    println!("overhead {:+.1}%", (b / a - 1.0) * 100.0);
}

fn time(command: &mut Command) -> f64 {
    let started = Instant::now();
    let out = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed().as_secs_f64()
}

fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
