//! How `[tap]` names its program: an `executable`, a `connector` shipped inside `tap-rest`, or a
//! `definitions` file run by `tap-rest`. Resolved into the program, the arguments before
//! `--config` and the name the tap goes by (log prefixes, the summary, the state's owner).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::config::Tap;
use crate::executable::{label_of, locate};

/// The program that runs connectors and definitions files.
pub const TAP_REST: &str = "tap-rest";

/// A tap's program, resolved.
#[derive(Debug, Clone)]
pub struct TapProgram {
    /// The executable.
    pub path: PathBuf,
    /// Arguments before `--config` (`--definitions …`).
    pub args: Vec<OsString>,
    /// The name it goes by: the executable's file name, or `tap-<connector>` as `tap-rest`
    /// names a connector itself.
    pub label: String,
    /// The config keys the connector declares secret, whatever their names.
    pub secret_keys: Vec<String>,
}

/// The names of the connectors shipped inside `tap-rest`.
pub fn shipped_connectors() -> Vec<String> {
    tap_rest::shipped()
        .map(|c| c.program.trim_start_matches("tap-").to_owned())
        .collect()
}

/// Resolves `[tap]`'s program; every problem is pushed, each naming its key.
pub fn resolve(tap: &Tap, base: &Path, problems: &mut Vec<String>) -> TapProgram {
    let before = problems.len();
    let resolved = match (&tap.executable, &tap.connector, &tap.definitions) {
        (_, Some(_), Some(_)) => Err(
            "tap.connector: give `connector` (a shipped connector) or `definitions` (a file), not both"
                .to_owned(),
        ),
        (Some(_), Some(c), None) => Err(format!(
            "tap.executable: leave it out with `connector = \"{c}\"` (tap-rest runs it); another tap-rest takes `definitions = FILE`"
        )),
        (None, None, None) => {
            Err("tap: name the tap with `executable`, `connector` or `definitions`".to_owned())
        }
        (Some(exe), None, None) => Ok(executable(exe, base, "tap.executable", problems)),
        (None, Some(name), None) => connector(name, base, problems),
        (exe, None, Some(file)) => definitions(exe.as_deref(), file, base, problems),
    };
    match resolved {
        Ok(program) => program,
        Err(problem) => {
            problems.insert(before, problem);
            TapProgram {
                path: PathBuf::new(),
                args: Vec::new(),
                label: "tap".to_owned(),
                secret_keys: Vec::new(),
            }
        }
    }
}

fn executable(exe: &str, base: &Path, key: &str, problems: &mut Vec<String>) -> TapProgram {
    TapProgram {
        path: locate(exe, base, key, problems),
        args: Vec::new(),
        label: label_of(exe),
        secret_keys: Vec::new(),
    }
}

fn connector(name: &str, base: &Path, problems: &mut Vec<String>) -> Result<TapProgram, String> {
    let Some(carried) = tap_rest::connector(name) else {
        return Err(format!(
            "tap.connector: unknown connector `{name}` (shipped: {}; a file of your own: `definitions = \"api.toml\"`)",
            shipped_connectors().join(", ")
        ));
    };
    let mut program = executable(TAP_REST, base, "tap.connector", problems);
    program.args = vec!["--definitions".into(), name.into()];
    program.label = carried.program.to_owned();
    if let Ok(defs) = tap_rest::defs::Definitions::parse(carried.definitions, name) {
        program.secret_keys = secret_keys(&defs);
    }
    Ok(program)
}

fn definitions(
    exe: Option<&str>,
    file: &Path,
    base: &Path,
    problems: &mut Vec<String>,
) -> Result<TapProgram, String> {
    let path = base.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("tap.definitions: cannot read {}: {e}", path.display()))?;
    let defs = tap_rest::defs::Definitions::parse(&text, &file.display().to_string())
        .map_err(|e| format!("tap.definitions: {}", one_line(&e.to_string())))?;
    let mut program = match exe {
        Some(exe) => executable(exe, base, "tap.executable", problems),
        None => executable(TAP_REST, base, "tap.definitions", problems),
    };
    program.args = vec!["--definitions".into(), path.into_os_string()];
    program.label = format!("tap-{}", defs.connector.name);
    program.secret_keys = secret_keys(&defs);
    Ok(program)
}

fn secret_keys(defs: &tap_rest::defs::Definitions) -> Vec<String> {
    defs.settings
        .iter()
        .filter(|(_, s)| s.secret)
        .map(|(k, _)| k.clone())
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap(toml: &str) -> Tap {
        toml::from_str(toml).expect("a [tap] table")
    }

    fn problems(toml: &str, base: &Path) -> Vec<String> {
        let mut found = Vec::new();
        resolve(&tap(toml), base, &mut found);
        found
    }

    #[test]
    fn a_shipped_connector_runs_tap_rest_with_its_name() {
        let mut found = Vec::new();
        let program = resolve(&tap("connector = \"github\""), Path::new("."), &mut found);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(program.args, ["--definitions", "github"]);
        assert_eq!(program.label, "tap-github");
        assert!(shipped_connectors().contains(&"github".to_owned()));
    }

    #[test]
    fn a_definitions_file_is_found_beside_the_pipeline_and_named_by_its_connector() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = tap_rest::connector("github").expect("shipped").definitions;
        std::fs::write(
            dir.path().join("api.toml"),
            text.replace("\"github\"", "\"mine\""),
        )
        .expect("write");
        let mut found = Vec::new();
        let program = resolve(&tap("definitions = \"api.toml\""), dir.path(), &mut found);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(program.label, "tap-mine");
        assert_eq!(program.secret_keys, ["auth_token"]);
        assert_eq!(
            program.args[1],
            dir.path().join("api.toml").into_os_string()
        );
        let found = problems("definitions = \"absent.toml\"", dir.path());
        assert!(
            found[0].starts_with("tap.definitions: cannot read"),
            "{found:?}"
        );
    }

    #[test]
    fn the_tap_is_named_exactly_one_way() {
        let base = Path::new(".");
        for (toml, expected) in [
            (
                "connector = \"github\"\ndefinitions = \"api.toml\"",
                "tap.connector: give `connector` (a shipped connector) or `definitions` (a file), not both",
            ),
            (
                "connector = \"github\"\nexecutable = \"tap-rest\"",
                "tap.executable: leave it out with `connector = \"github\"`",
            ),
            (
                "config = {}",
                "tap: name the tap with `executable`, `connector` or `definitions`",
            ),
            (
                "connector = \"gitlub\"",
                "tap.connector: unknown connector `gitlub` (shipped: ",
            ),
        ] {
            let found = problems(toml, base);
            assert_eq!(found.len(), 1, "{toml}: {found:?}");
            assert!(found[0].starts_with(expected), "{toml}: {found:?}");
        }
    }
}
