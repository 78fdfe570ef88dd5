//! `fake-gitlab`: serves synthetic projects on 127.0.0.1 and prints exactly one line,
//! `listening http://127.0.0.1:PORT` (the API is under `/api/v4`), on stdout when ready. Logs
//! go to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fake_gitlab::{FakeGitlab, FaultSpec, parse_project_spec};

/// An offline GitLab REST v4 API with deterministic synthetic data.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port to bind on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of all generated data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
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
    /// Fixed latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Send RateLimit-* headers on every answer, not only on 429s.
    #[arg(long)]
    ratelimit_headers: bool,
    /// Serve HTTPS with a throwaway certificate written to DIR/cert.pem (trust that file).
    #[arg(long)]
    tls_dir: Option<PathBuf>,
    /// With --tls-dir, also serve the same data over plain HTTP and print a second line,
    /// `also http://127.0.0.1:PORT`.
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
            eprintln!("fake-gitlab: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut builder = FakeGitlab::builder()
        .seed(args.seed)
        .latency(Duration::from_millis(args.latency_ms))
        .ratelimit_headers_always(args.ratelimit_headers)
        .also_http(args.also_http);
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
    let fake = match &args.tls_dir {
        Some(dir) => builder
            .start_tls_on(args.port, dir)
            .with_context(|| format!("serving HTTPS with a certificate in {}", dir.display()))?,
        None => builder.start_on(args.port).context("starting the server")?,
    };
    tracing::info!(projects = ?fake.world().project_paths(), "serving");
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening {}", fake.root_url()).context("writing to stdout")?;
    if let Some(plain) = fake.plain_url() {
        writeln!(out, "also {plain}").context("writing to stdout")?;
    }
    out.flush().context("flushing stdout")?;
    drop(out);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal runtime")?;
    runtime.block_on(shutdown_signal());
    tracing::info!("shutting down");
    drop(fake);
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}
