//! The Singer protocol as Rust types: no I/O policy, no network, no database.
//!
//! # Layout
//! - [`message`]: the four message kinds (SCHEMA, RECORD, STATE, ACTIVATE_VERSION).
//! - [`reader`]: a streaming, bounded line reader that turns bytes into messages or typed errors.
//! - [`writer`]: compact JSON lines with upper-case types, flushed after each STATE.
//! - [`catalog`]: the discovery catalog and its breadcrumb metadata.
//! - [`state`]: bookmarks in the simple and the Meltano SDK partitioned layouts.
//! - [`about`]: the `--about` document of a tap or target; [`program`]: stderr logging and
//!   one-line failures, as every Singer program does them.

pub mod about;
pub mod catalog;
pub mod message;
pub mod program;
pub mod reader;
pub mod state;
pub mod writer;

pub use about::About;
pub use catalog::{Catalog, CatalogEntry, Metadata, MetadataEntry, ReplicationMethod};
pub use message::{ActivateVersion, Message, Record, Schema, StateMessage};
pub use reader::{
    DEFAULT_MAX_LINE_BYTES, LineContent, LineReader, MessageReader, ReadError, ReadErrorKind,
    parse_text,
};
pub use state::{Partition, State};
pub use writer::MessageWriter;
