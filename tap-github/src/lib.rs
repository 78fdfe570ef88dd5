//! `tap-github`: a Singer tap for GitHub's REST API. It is `tap-rest` carrying one connector:
//! `connectors/github.toml` and `schemas/github/*.json`, embedded. Nothing else here knows
//! GitHub.

use std::process::ExitCode;

/// The GitHub definitions, embedded.
pub const DEFINITIONS: &str = include_str!("../../connectors/github.toml");

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/schemas.rs"));
}
pub use embedded::SCHEMAS;

/// The connector this program carries.
pub const CARRIED: tap_rest::Carried = tap_rest::Carried {
    program: "tap-github",
    definitions: DEFINITIONS,
    schemas: SCHEMAS,
};

/// The engine loaded with GitHub's definitions and schemas.
pub fn engine() -> Result<tap_rest::Engine, tap_rest::connector::LoadError> {
    CARRIED.engine()
}

/// The `tap-github` command line.
pub fn main() -> ExitCode {
    tap_rest::main(Some(CARRIED))
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_definitions_and_schemas_load() {
        let engine = super::engine().expect("github.toml and schemas agree");
        assert!(engine.defs.streams.len() >= 8);
        assert_eq!(
            super::SCHEMAS.len(),
            engine.defs.streams.len(),
            "one schema per stream, no strays"
        );
    }
}
