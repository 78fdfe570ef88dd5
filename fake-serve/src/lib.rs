//! How the offline fake APIs serve. A fake hands an `axum::Router` to a [`Server`], which
//! serves it on 127.0.0.1 on a runtime thread of its own (so synchronous and asynchronous tests
//! alike can use it), over HTTP or over HTTPS with a [`Throwaway`] certificate authority (some
//! Python taps only speak `https://`), optionally with a plain HTTP sibling, until dropped. The
//! fakes' binaries share their serving flags ([`ServeArgs`]) and their `listening …` lines.
//!
//! # Layout
//! - [`tls`]: the throwaway certificate authority and an HTTPS server on it.
//! - `server`: the listeners and the runtime thread.
//! - `cli`: the flags, the lines a binary prints, logging and the stop signal.
//! - `process`: a fake's binary started by a test, until dropped.

mod cli;
mod process;
mod server;
pub mod tls;

pub use cli::{ServeArgs, announce, log_to_stderr, run_binary, stop_signal, wait_for_stop_signal};
pub use process::Process;
pub use server::{Bound, Listen, Server};
pub use tls::Throwaway;
