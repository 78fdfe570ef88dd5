//! `fake-github`: serves synthetic repositories on 127.0.0.1 and prints exactly one line,
//! `listening http://127.0.0.1:PORT`, on stdout when ready. Logs go to stderr.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fake_github::{FakeGithub, FaultSpec, IssueCursor, parse_repo_spec};

/// A faithful offline GitHub REST API with deterministic synthetic data.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port to bind on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of all generated data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Repositories: owner/name:COMMITS:ISSUES, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "octo/app:500:120")]
    repos: Vec<String>,
    /// Organizations (their repositories are listed by /orgs/{org}/repos); repeatable.
    #[arg(long, value_delimiter = ',')]
    org: Vec<String>,
    /// Fixed latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Require this token (Authorization: Bearer|token T); anything else gets 401.
    #[arg(long)]
    token: Option<String>,
    /// Deterministic faults, e.g. http500:every=7,secondary:every=11,primary:budget=50.
    #[arg(long)]
    faults: Option<String>,
    /// What /issues' after= cursor holds: keyset (never skips) or offset (shifts like pages).
    #[arg(long, default_value = "keyset", value_parser = ["keyset", "offset"])]
    issue_cursor: String,
}

fn main() -> ExitCode {
    fake_serve::run_binary("fake-github", run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut builder = FakeGithub::builder()
        .seed(args.seed)
        .latency(Duration::from_millis(args.latency_ms))
        .issue_cursor(args.issue_cursor.parse::<IssueCursor>()?);
    for spec in &args.repos {
        let (name, size) = parse_repo_spec(spec)?;
        builder = builder.repo(name, size);
    }
    for org in args.org {
        builder = builder.org(org);
    }
    if let Some(token) = args.token {
        builder = builder.token(token);
    }
    if let Some(faults) = &args.faults {
        builder = builder.faults(faults.parse::<FaultSpec>()?);
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let fake = builder
            .start_on(args.port)
            .await
            .context("starting the server")?;
        tracing::info!(repos = ?fake.world().repo_names(), "serving");
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {}", fake.api_url()).context("writing to stdout")?;
        out.flush().context("flushing stdout")?;
        drop(out);
        fake_serve::stop_signal().await;
        tracing::info!("shutting down");
        drop(fake);
        anyhow::Ok(())
    })?;
    Ok(())
}
