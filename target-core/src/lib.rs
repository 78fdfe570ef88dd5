//! `target-core`: the rules every tapline target shares, whatever the database.
//!
//! A target reads Singer messages, turns each stream into a table and each record into a row,
//! and commits only at STATE boundaries. Everything but the SQL lives here; a database plugs in
//! through the [`Backend`] trait (see `target-sqlite` and `target-postgres`).
//!
//! # Layout
//! - [`names`]: stream and property names → identifiers (and shortening to a length limit).
//! - [`columns`]: JSON Schema → columns and [`Kind`]s, flattening with `__`, the type map.
//! - [`evolution`]: what to do with an existing table when a SCHEMA arrives.
//! - [`numbers`]: numbers a double or a 64-bit integer cannot hold, kept as exact text.
//! - [`row`]: a record walked into one [`Cell`] per column, with the `_sdc_*` metadata.
//! - [`decode`]: the reader thread: parse, find wide numbers, validate.
//! - [`backend`]: the trait a database implements.
//! - [`loader`]: the loop that commits only at STATE boundaries and echoes each committed STATE.
//! - [`settings`]: the settings every target shares; [`summary`]: end-of-run counts.

pub mod backend;
pub mod columns;
pub mod decode;
pub mod evolution;
pub mod loader;
pub mod names;
pub mod numbers;
pub mod row;
pub mod settings;
pub mod summary;

pub use backend::{Backend, Counts, DbError, Rejected, WriteError};
pub use columns::{Kind, TypeMap};
pub use evolution::ExistingColumn;
pub use loader::{LoadError, REJECTED_TABLE, load, now_rfc3339};
pub use row::{Cell, METADATA_COLUMNS};
pub use settings::{OnInvalidRecord, Settings};
pub use summary::Summary;
