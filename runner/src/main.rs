//! The `tapline` binary: parses arguments, wires signals, hands over to the library.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser as _;

/// The built-in target parses on one thread and frees on another: see target-sqlite's main.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if let Some(code) = std::env::args_os()
        .next()
        .and_then(|argv0| tapline::builtin::dispatch(&argv0))
    {
        return code;
    }
    let args = tapline::cli::Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TAPLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let interrupt = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal exits at once (children die with us); the first stops the tap and lets
        // the target keep what it committed.
        let registered =
            signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&interrupt))
                .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&interrupt)));
        if let Err(e) = registered {
            eprintln!("tapline: error: cannot handle signals: {e}");
            return ExitCode::FAILURE;
        }
    }
    match tapline::commands::dispatch(args, &interrupt) {
        Ok(code) => code,
        Err(e) => singer::program::fail("tapline", e.as_ref(), &|_| false),
    }
}
