//! `tapline` end to end, against fake-github and the real tap and target binaries: runs,
//! incremental runs, failures and their exit codes, crashes, the run lock, secrets, shared state in PostgreSQL and sharded runs.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../../target-postgres/testsupport/cluster.rs"]
mod cluster;
mod support;
mod truth;

mod causes;
mod chaos;
mod checks;
mod connectors;
mod crash;
mod disturbed;
mod failures;
mod first_minutes;
mod heartbeat;
mod init_checks;
mod lock;
mod missing_repository;
mod run;
mod schema_file;
mod secrets;
mod shards;
mod shared_state;
mod shipped_connectors;
mod small_things;
mod state_surgery;
