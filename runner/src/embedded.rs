//! The dbt project compiled into tapline, written out by `tapline demo` and `tapline init`.

use std::path::Path;

use anyhow::Context as _;

include!(concat!(env!("OUT_DIR"), "/dbt_project.rs"));

/// Writes the dbt project into `dir` (created), replacing files of the same name.
pub fn write_dbt_project(dir: &Path) -> anyhow::Result<()> {
    for (relative, content) in FILES {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The embedded project's `requirements.txt`: what the managed dbt venv is made from.
pub fn requirements() -> &'static str {
    FILES
        .iter()
        .find(|(name, _)| *name == "requirements.txt")
        .map_or("", |(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_and_its_requirements_are_embedded() {
        let names: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        for needed in [
            "dbt_project.yml",
            "profiles.yml",
            "requirements.txt",
            "models/sources.yml",
        ] {
            assert!(names.contains(&needed), "{needed} missing from {names:?}");
        }
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("target/") || n.starts_with("logs/"))
        );
        let dir = tempfile::tempdir().expect("tempdir");
        write_dbt_project(dir.path()).expect("writes");
        assert!(dir.path().join("models/sources.yml").is_file());
        assert!(requirements().contains("dbt-sqlite=="));
    }
}
