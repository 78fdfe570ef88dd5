//! Integration tests of the `target-postgres` binary against a real PostgreSQL (one cluster
//! per test binary, a database per test; see `testsupport/cluster.rs`), one module per topic.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

#[path = "../../testsupport/cluster.rs"]
mod cluster;
#[path = "../../../target-core/testsupport/corpus.rs"]
mod corpus;
#[path = "../../../target-core/testsupport/crash.rs"]
mod crash_test;

mod about;
mod bad_input;
mod concurrent;
mod crash;
mod numbers;
mod schema_file;
mod secrets;
mod state;
mod tables;
