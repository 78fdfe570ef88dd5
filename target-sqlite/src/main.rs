//! The `target-sqlite` binary: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::Parser as _;

/// Records are parsed on one thread and freed on another; mimalloc handles that without the
/// arena lock contention glibc's allocator shows here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = target_sqlite::cli::Args::parse();
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TAPLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match target_sqlite::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("target-sqlite: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without the repeats that nested errors bring: a
/// thiserror `source` that the message already shows, or rusqlite's SQLite code under its text.
fn one_line(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        if cause.is::<rusqlite::ffi::Error>() {
            continue;
        }
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text.replace(['\r', '\n'], " ")
}
