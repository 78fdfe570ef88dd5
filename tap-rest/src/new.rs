//! `tap-rest new NAME`: writes a commented skeleton connector, `NAME.toml` with one paged
//! incremental stream and one child stream, and their schemas in `schemas/NAME/`, where the
//! loader looks for a definitions file's schemas. Refuses to overwrite any file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::NewArgs;

const DEFINITIONS: &str = include_str!("new/skeleton.toml");

/// The skeleton's schemas: (stream, JSON Schema text).
const SCHEMAS: [(&str, &str); 2] = [
    ("items", include_str!("new/items.json")),
    ("comments", include_str!("new/comments.json")),
];

/// Why a name cannot name a connector, if it cannot.
pub fn name_problem(name: &str) -> Option<String> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!ok).then(|| {
        format!(
            "`{name}` cannot name a connector: use lower case letters, digits and `_`, starting with a letter"
        )
    })
}

/// The files of the skeleton for `name` under `dir`: (path, contents).
pub fn files(name: &str, dir: &Path) -> Vec<(PathBuf, String)> {
    let env = name.to_ascii_uppercase();
    let mut out = vec![(
        dir.join(format!("{name}.toml")),
        DEFINITIONS.replace("@NAME@", name).replace("@ENV@", &env),
    )];
    let schemas = dir.join("schemas").join(name);
    out.extend(
        SCHEMAS
            .iter()
            .map(|(stream, text)| (schemas.join(format!("{stream}.json")), (*text).to_owned())),
    );
    out
}

/// Writes the skeleton; nothing is written when any of its files exists.
pub fn run(args: &NewArgs) -> anyhow::Result<ExitCode> {
    if let Some(problem) = name_problem(&args.name) {
        anyhow::bail!(problem);
    }
    let files = files(&args.name, &args.dir);
    let existing: Vec<String> = files
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| p.strip_prefix(".").unwrap_or(p).display().to_string())
        .collect();
    if !existing.is_empty() {
        anyhow::bail!(
            "{} already exist{}; nothing written (remove {} or choose another name or --dir)",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" },
            if existing.len() == 1 { "it" } else { "them" },
        );
    }
    let shown = |p: &Path| p.strip_prefix(".").unwrap_or(p).display().to_string();
    let mut out = std::io::stdout().lock();
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        std::io::Write::write_all(&mut f, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::io::Write::write_all(&mut out, format!("wrote {}\n", shown(path)).as_bytes())?;
    }
    let defs = shown(&files[0].0);
    std::io::Write::write_all(
        &mut out,
        format!(
            "next: edit {defs} and its schemas, then\n  tap-rest check --definitions {defs} --config config.json\n"
        )
        .as_bytes(),
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skeleton_loads() {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files("demo_api", dir.path()) {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let engine = crate::connector::load(&dir.path().join("demo_api.toml"), &[]).unwrap();
        assert_eq!(engine.defs.streams.len(), 2);
    }

    #[test]
    fn names_are_identifiers() {
        assert!(name_problem("my_api2").is_none());
        assert!(name_problem("My-API").is_some());
        assert!(name_problem("").is_some());
    }
}
