//! The connector-writing commands, `tap-rest check` and `tap-rest new`, against fake-shelf (a
//! small book-catalog API on loopback, one per test). One test binary
//! (`cargo test -p tap-rest --test kit`).
#![allow(clippy::unwrap_used, missing_docs)]

mod check;
mod new;
