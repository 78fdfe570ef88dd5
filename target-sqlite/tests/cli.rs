//! Integration tests of the `target-sqlite` binary, one module per topic.
//!
//! Each test gets its own temporary folder (config, database, inputs), so they run in parallel.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

mod about;
mod bad_input;
mod crash;
mod schema_file;
mod state;
mod tables;
mod validation;
