//! `fake-gitlab`: serves synthetic projects on 127.0.0.1 and prints exactly one line,
//! `listening http://127.0.0.1:PORT` (the API is under `/api/v4`), on stdout when ready. Logs
//! go to stderr.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use fake_gitlab::{FakeGitlab, FaultSpec, parse_project_spec};
use fake_serve::ServeArgs;

/// An offline GitLab REST v4 API with deterministic synthetic data.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
    /// Projects: group[/sub]/name:COMMITS:ISSUES:MERGE_REQUESTS, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "acme/tools/app:300:80:40"
    )]
    projects: Vec<String>,
    /// Require this token (PRIVATE-TOKEN, Authorization: Bearer or ?private_token=).
    #[arg(long)]
    token: Option<String>,
    /// Deterministic faults, e.g. http500:every=7,ratelimit:every=11,churn:every=2:budget=3.
    #[arg(long)]
    faults: Option<String>,
    /// Send RateLimit-* headers on every answer, not only on 429s.
    #[arg(long)]
    ratelimit_headers: bool,
}

fn main() -> ExitCode {
    fake_serve::run_binary("fake-gitlab", run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut builder = FakeGitlab::builder()
        .seed(args.serve.seed)
        .latency(args.serve.latency())
        .ratelimit_headers_always(args.ratelimit_headers);
    for spec in &args.projects {
        let (path, size) = parse_project_spec(spec).map_err(anyhow::Error::msg)?;
        builder = builder.project(path, size);
    }
    if let Some(token) = args.token {
        builder = builder.token(token);
    }
    if let Some(faults) = &args.faults {
        builder = builder.faults(faults.parse::<FaultSpec>()?);
    }
    let fake = builder
        .serve(&args.serve.listen())
        .context("starting the server")?;
    tracing::info!(projects = ?fake.world().project_paths(), "serving");
    fake_serve::announce(fake.server()).context("writing to stdout")?;
    fake_serve::wait_for_stop_signal().context("waiting for a stop signal")?;
    tracing::info!("shutting down");
    drop(fake);
    Ok(())
}
