//! `tap-github`: a Singer tap for GitHub's REST API. It is `tap-rest` carrying one shipped
//! connector, `connectors/github.toml` with `schemas/github/*.json`. Nothing here knows GitHub.

use std::process::ExitCode;

/// The GitHub connector as tap-rest ships it.
pub fn carried() -> tap_rest::Carried {
    // build.rs of tap-rest embeds every file of connectors/, and github.toml is one of them.
    tap_rest::connector("github")
        .unwrap_or_else(|| unreachable!("connectors/github.toml is shipped"))
}

/// The GitHub definitions text.
pub const DEFINITIONS: &str = include_str!("../../connectors/github.toml");

/// The engine loaded with GitHub's definitions and schemas.
pub fn engine() -> Result<tap_rest::Engine, tap_rest::connector::LoadError> {
    carried().engine()
}

/// The `tap-github` command line.
pub fn main() -> ExitCode {
    tap_rest::main(Some(carried()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_definitions_and_schemas_load() {
        let carried = super::carried();
        let engine = super::engine().expect("github.toml and schemas agree");
        assert!(engine.defs.streams.len() >= 8);
        assert_eq!(
            carried.schemas.len(),
            engine.defs.streams.len(),
            "one schema per stream, no strays"
        );
        assert_eq!(carried.definitions, super::DEFINITIONS);
    }
}
