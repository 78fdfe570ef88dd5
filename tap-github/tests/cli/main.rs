//! Integration tests of `tap-github` against `fake-github` in-process: one test binary
//! (`cargo test -p tap-github --test cli`), one module per topic. Each test starts its own fake
//! on port 0 and works in its own temporary folder, so they run in parallel.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

mod about;
mod catalog;
mod coverage;
mod crash;
mod errors;
mod faults;
mod full_sync;
mod incremental;
mod reviews;
mod schema_file;
