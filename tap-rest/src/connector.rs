//! A connector: definitions and the schema of each stream, from a definitions file on disk (its
//! schemas named by the streams, inline, or found in the connector's schema folder) or embedded
//! in a binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::defs::stream::SchemaDef;
use crate::defs::{DefError, Definitions};
use crate::engine::Engine;

/// Why a connector cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The definitions are wrong.
    #[error("{0}")]
    Definitions(#[from] DefError),
    /// A schema is missing or not JSON.
    #[error("{0}")]
    Schema(String),
    /// Definitions and schemas disagree.
    #[error("{0}")]
    Engine(#[from] crate::engine::Error),
}

/// Loads the connector described by the definitions file at `path`; a stream whose schema is
/// neither given nor found in the schema folder takes the one `fallback` names, if any (a
/// program running other definitions against the schemas it carries).
pub fn load(path: &Path, fallback: &[(&str, &str)]) -> Result<Engine, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Read(path.to_owned(), e))?;
    let defs = Definitions::parse(&text, &path.display().to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let folder = |defs: &Definitions| -> Vec<PathBuf> {
        match &defs.connector.schemas {
            Some(s) => vec![dir.join(s)],
            None => vec![
                dir.join("../schemas").join(&defs.connector.name),
                dir.join("schemas").join(&defs.connector.name),
            ],
        }
    };
    let mut schemas = BTreeMap::new();
    for s in &defs.streams {
        let schema = match &s.schema {
            Some(SchemaDef::Inline(table)) => serde_json::to_value(table).map_err(|e| {
                LoadError::Schema(format!("stream `{}`: inline schema: {e}", s.name))
            })?,
            Some(SchemaDef::File(f)) => read_schema(&dir.join(f), &s.name)?,
            None => {
                let candidates: Vec<PathBuf> = folder(&defs)
                    .into_iter()
                    .map(|d| d.join(format!("{}.json", s.name)))
                    .collect();
                let carried = fallback.iter().find(|(n, _)| *n == s.name);
                if let (None, Some((_, text))) = (candidates.iter().find(|p| p.is_file()), carried)
                {
                    let v = serde_json::from_str(text)
                        .map_err(|e| LoadError::Schema(format!("schema `{}`: {e}", s.name)))?;
                    schemas.insert(s.name.clone(), v);
                    continue;
                }
                let found = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
                    LoadError::Schema(format!(
                        "stream `{}`: no schema (looked for {}; or set `schema`)",
                        s.name,
                        candidates
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                read_schema(found, &s.name)?
            }
        };
        schemas.insert(s.name.clone(), schema);
    }
    Ok(Engine::new(defs, schemas)?)
}

/// The connector embedded in a binary: definitions text and (stream name, schema text) pairs.
pub fn embedded(name: &str, text: &str, schemas: &[(&str, &str)]) -> Result<Engine, LoadError> {
    let defs = Definitions::parse(text, name)?;
    let mut parsed = BTreeMap::new();
    for (stream, schema) in schemas {
        let v: Value = serde_json::from_str(schema)
            .map_err(|e| LoadError::Schema(format!("schema `{stream}`: {e}")))?;
        parsed.insert((*stream).to_owned(), v);
    }
    for s in &defs.streams {
        if let Some(SchemaDef::Inline(table)) = &s.schema {
            let v = serde_json::to_value(table)
                .map_err(|e| LoadError::Schema(format!("stream `{}`: {e}", s.name)))?;
            parsed.insert(s.name.clone(), v);
        }
    }
    Ok(Engine::new(defs, parsed)?)
}

fn read_schema(path: &Path, stream: &str) -> Result<Value, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Schema(format!("stream `{stream}`: {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| LoadError::Schema(format!("stream `{stream}`: {}: {e}", path.display())))
}
