//! The engine against invented APIs served by small in-test servers: no stream, header or
//! convention of a real API. One test binary (`cargo test -p tap-rest --test engine`), one
//! module per topic; each test serves on its own port.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

mod auth;
mod children;
mod declarative;
mod errors;
mod head;
mod incremental;
mod pages_ahead;
mod paginators;
mod partitions;
mod rate_limits;
mod reanchor;
mod schemas;
mod shards;
