//! `fake-jira`: serves a synthetic Jira Cloud site on 127.0.0.1 and prints exactly one line,
//! `listening http://127.0.0.1:PORT` (`https://` with `--tls-dir`), on stdout when ready; with
//! `--also-http`, a second line, `also http://127.0.0.1:PORT`, gives the plain HTTP address of
//! the same site. Logs go to stderr.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fake_jira::{FakeJira, FaultSpec, Size};
use fake_serve::ServeArgs;

/// An offline Jira Cloud REST API with deterministic synthetic data.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
    /// Number of projects.
    #[arg(long, default_value_t = 3)]
    projects: usize,
    /// Number of issues.
    #[arg(long, default_value_t = 120)]
    issues: usize,
    /// Number of users.
    #[arg(long, default_value_t = 7)]
    users: usize,
    /// The user's time zone (dates are written and JQL dates read in it).
    #[arg(long, default_value = "America/Los_Angeles")]
    time_zone: String,
    /// Require HTTP Basic with this e-mail (and --api-token).
    #[arg(long, requires = "api_token")]
    email: Option<String>,
    /// The API token that goes with --email.
    #[arg(long, requires = "email")]
    api_token: Option<String>,
    /// Deterministic faults, e.g. http503:every=7,throttle:every=11:retry=1,churn:every=2.
    #[arg(long)]
    faults: Option<String>,
    /// Milliseconds a change takes to reach search.
    #[arg(long, default_value_t = 0)]
    index_lag_ms: u64,
}

fn main() -> ExitCode {
    fake_serve::run_binary("fake-jira", run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut builder = FakeJira::builder()
        .seed(args.serve.seed)
        .size(Size {
            projects: args.projects,
            issues: args.issues,
            users: args.users,
        })
        .time_zone(args.time_zone)
        .index_lag(Duration::from_millis(args.index_lag_ms))
        .latency(args.serve.latency());
    if let (Some(email), Some(token)) = (args.email, args.api_token) {
        builder = builder.credentials(email, token);
    }
    if let Some(faults) = &args.faults {
        builder = builder.faults(faults.parse::<FaultSpec>()?);
    }
    let fake = builder
        .serve(&args.serve.listen())
        .context("starting the server")?;
    fake_serve::announce(fake.server()).context("writing to stdout")?;
    fake_serve::wait_for_stop_signal().context("waiting for a stop signal")?;
    tracing::info!("shutting down");
    drop(fake);
    Ok(())
}
