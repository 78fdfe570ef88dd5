//! Integration tests of the `target-sqlite` binary: one test binary (`cargo test --test cli`),
//! one module per topic. Fixtures are `.singer` files in `tests/fixtures/`.
//!
//! Each test gets its own temporary folder (config, database, inputs), so they run in parallel.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

#[path = "../../../target-core/testsupport/corpus.rs"]
mod corpus;
#[path = "../../../target-core/testsupport/crash.rs"]
mod crash_test;

mod about;
mod bad_input;
mod crash;
mod numbers;
mod schema_file;
mod state;
mod tables;
mod validation;
