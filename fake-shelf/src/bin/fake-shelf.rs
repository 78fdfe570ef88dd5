//! `fake-shelf`: serves the book catalog on 127.0.0.1 and prints exactly one line,
//! `listening http://127.0.0.1:PORT`, on stdout when ready; runs until stopped.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

/// A tiny book-catalog REST API on loopback, for the connector guide.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port to bind on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The token every request must send as `Authorization: Bearer TOKEN`.
    #[arg(long, default_value = fake_shelf::DEFAULT_TOKEN)]
    token: String,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-shelf: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let (listener, router) = fake_shelf::bind(args.port, &args.token)
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening http://{addr}").context("writing to stdout")?;
        out.flush().context("flushing stdout")?;
        drop(out);
        axum::serve(listener, router).await.context("serving")
    })
}
