//! What the fakes' binaries share: the serving flags, the lines printed when ready, logging to
//! stderr and waiting for Ctrl-C or SIGTERM.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::server::{Listen, Server};

/// The flags every fake binary takes; add them with `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port to bind on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed of all generated data.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Fixed latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Serve HTTPS with a throwaway certificate written to DIR/cert.pem (trust that file).
    #[arg(long)]
    pub tls_dir: Option<PathBuf>,
    /// With --tls-dir, also serve the same data over plain HTTP on another free port and print
    /// a second line, `also http://127.0.0.1:PORT`.
    #[arg(long, requires = "tls_dir")]
    pub also_http: bool,
}

impl ServeArgs {
    /// Where and how to serve.
    pub fn listen(&self) -> Listen {
        Listen {
            port: self.port,
            tls_dir: self.tls_dir.clone(),
            also_http: self.also_http,
        }
    }

    /// The latency flag as a duration.
    pub fn latency(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.latency_ms)
    }
}

/// Prints `listening URL` and, with a plain sibling, `also http://127.0.0.1:PORT` on stdout.
pub fn announce(server: &Server) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening {}", server.url())?;
    if let Some(plain) = server.plain_url() {
        writeln!(out, "also {plain}")?;
    }
    out.flush()
}

/// A fake binary's `main`: logs to stderr, parses the flags and runs `run`; an error is printed
/// as `NAME: error` and exits with status 2.
pub fn run_binary<A: clap::Parser, E: std::fmt::Display>(
    name: &str,
    run: impl FnOnce(A) -> Result<(), E>,
) -> ExitCode {
    log_to_stderr();
    match run(A::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Sends `tracing` logs to stderr, at `info` unless `RUST_LOG` says otherwise.
pub fn log_to_stderr() {
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn stop_signal() {
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

/// Blocks until Ctrl-C or SIGTERM.
pub fn wait_for_stop_signal() -> io::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(stop_signal());
    Ok(())
}
