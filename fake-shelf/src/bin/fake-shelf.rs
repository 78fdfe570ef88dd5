//! `fake-shelf`: serves the book catalog on 127.0.0.1 and prints exactly one line,
//! `listening http://127.0.0.1:PORT`, on stdout when ready; runs until stopped.

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
    fake_serve::run_binary("fake-shelf", run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let fake = fake_shelf::start_on(args.port, &args.token).context("starting the server")?;
    fake_serve::announce(fake.server()).context("writing to stdout")?;
    fake_serve::wait_for_stop_signal().context("waiting for a stop signal")
}
