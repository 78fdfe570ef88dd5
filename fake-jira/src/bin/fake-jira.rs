//! `fake-jira`: serves a synthetic Jira Cloud site on 127.0.0.1 and prints exactly one line,
//! `listening http://127.0.0.1:PORT` (`https://` with `--tls-dir`), on stdout when ready; with
//! `--also-http`, a second line, `also http://127.0.0.1:PORT`, gives the plain HTTP address of
//! the same site. Logs go to stderr.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fake_jira::{FakeJira, FaultSpec, Size};

/// An offline Jira Cloud REST API with deterministic synthetic data.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port to bind on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
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
    /// Fixed latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Serve HTTPS with a throwaway certificate written here (cert.pem is the CA bundle).
    #[arg(long)]
    tls_dir: Option<std::path::PathBuf>,
    /// With --tls-dir, also serve the same site over plain HTTP on another free port (for a
    /// client that trusts only public roots), printed on a second line.
    #[arg(long, requires = "tls_dir")]
    also_http: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fake-jira: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut builder = FakeJira::builder()
        .seed(args.seed)
        .size(Size {
            projects: args.projects,
            issues: args.issues,
            users: args.users,
        })
        .time_zone(args.time_zone)
        .index_lag(Duration::from_millis(args.index_lag_ms))
        .latency(Duration::from_millis(args.latency_ms));
    if let (Some(email), Some(token)) = (args.email, args.api_token) {
        builder = builder.credentials(email, token);
    }
    if let Some(faults) = &args.faults {
        builder = builder.faults(faults.parse::<FaultSpec>()?);
    }
    let listener = std::net::TcpListener::bind(("127.0.0.1", args.port))
        .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let scheme = if args.tls_dir.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{addr}");
    let world = Arc::new(builder.build(&url)?);
    let tls = match &args.tls_dir {
        Some(dir) => Some(
            fake_serve::tls::Throwaway::create(dir)
                .with_context(|| format!("writing a certificate into {}", dir.display()))?,
        ),
        None => None,
    };
    let plain = if args.also_http {
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding a plain port")?;
        l.set_nonblocking(true)?;
        Some(l)
    } else {
        None
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let app = fake_jira::app(world.clone());
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {url}").context("writing to stdout")?;
        if let Some(l) = plain {
            writeln!(out, "also http://{}", l.local_addr()?).context("writing to stdout")?;
            let l = tokio::net::TcpListener::from_std(l)?;
            let app = fake_jira::app(world);
            tokio::spawn(async move { axum::serve(l, app).await });
        }
        out.flush().context("flushing stdout")?;
        drop(out);
        let served = async {
            match &tls {
                Some(tls) => fake_serve::tls::serve(listener, app, tls).await,
                None => {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    axum::serve(listener, app).await
                }
            }
        };
        tokio::select! {
            r = served => r.context("serving")?,
            _ = shutdown_signal() => tracing::info!("shutting down"),
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
