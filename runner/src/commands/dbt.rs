//! `tapline dbt install` and `tapline dbt ARGS…`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::dbt::venv;
use crate::plan::Plan;

/// What `tapline dbt install --help` prints.
const INSTALL_HELP: &str = "Usage: tapline dbt install [-c FILE]

Installs dbt-core and dbt-sqlite into tapline's managed venv (the versions of the pipeline's
dbt project's requirements.txt, else tapline's own) and prints the dbt executable's path.
Run once; `tapline run` and `tapline dbt ARGS…` use it.";

/// Installs the managed dbt, or runs dbt with the pipeline's environment. A `-c FILE` among
/// dbt's arguments is tapline's (dbt has no `-c`).
pub fn dbt(config: &Path, args: &[String]) -> anyhow::Result<ExitCode> {
    let (config, args) = take_config(config, args);
    let (config, args) = (config.as_path(), args.as_slice());
    if args.first().map(String::as_str) == Some("install")
        && args.iter().any(|a| a == "--help" || a == "-h")
    {
        println_text(INSTALL_HELP);
        return Ok(ExitCode::SUCCESS);
    }
    let plan = if config.is_file() || args.first().map(String::as_str) != Some("install") {
        match Plan::load(config) {
            Ok(plan) => Some(plan),
            Err(e) => {
                eprintln!("tapline: error: {e}");
                return Ok(ExitCode::from(crate::run::exit::CONFIG));
            }
        }
    } else {
        None
    };
    if args.first().map(String::as_str) == Some("install") {
        // The pipeline's dbt project, else ./dbt (a checkout of tapline), else the project
        // compiled into tapline (an installed or containerised tapline).
        let project = plan
            .as_ref()
            .and_then(|p| p.dbt.as_ref())
            .map_or_else(|| PathBuf::from("dbt"), |d| d.project_dir.clone());
        let mut requirements = project.join("requirements.txt");
        let embedded = tempfile::tempdir()?;
        if !requirements.is_file() {
            requirements = embedded.path().join("requirements.txt");
            std::fs::write(&requirements, crate::embedded::requirements())?;
        }
        let dir = venv::ensure(&requirements, &mut |line| eprintln!("tapline: {line}"))?;
        println_path(&venv::dbt_in(&dir));
        return Ok(ExitCode::SUCCESS);
    }
    let Some((plan, dbt)) = plan.as_ref().and_then(|p| Some((p, p.dbt.as_ref()?))) else {
        eprintln!(
            "tapline: error: {}: no [dbt] section with commands",
            config.display()
        );
        return Ok(ExitCode::from(crate::run::exit::CONFIG));
    };
    let status = crate::dbt::passthrough(plan, dbt, args)?;
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
    ))
}

/// Takes `-c FILE`, `--config FILE` or `--config=FILE` out of dbt's arguments.
fn take_config(config: &Path, args: &[String]) -> (PathBuf, Vec<String>) {
    let mut config = config.to_path_buf();
    let mut rest = Vec::new();
    let mut items = args.iter();
    while let Some(arg) = items.next() {
        match arg.as_str() {
            "-c" | "--config" => {
                if let Some(file) = items.next() {
                    config = PathBuf::from(file);
                }
            }
            other => match other.strip_prefix("--config=") {
                Some(file) => config = PathBuf::from(file),
                None => rest.push(arg.clone()),
            },
        }
    }
    (config, rest)
}

fn println_path(path: &Path) {
    println_text(&path.display().to_string());
}

fn println_text(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_taken_out_of_dbt_arguments() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (config, rest) = take_config(
            Path::new("tapline.toml"),
            &args(&["run", "-c", "p/x.toml", "--select", "m"]),
        );
        assert_eq!(config, PathBuf::from("p/x.toml"));
        assert_eq!(rest, args(&["run", "--select", "m"]));
        let (config, rest) = take_config(Path::new("a.toml"), &args(&["debug", "--config=b.toml"]));
        assert_eq!((config, rest), (PathBuf::from("b.toml"), args(&["debug"])));
        let (config, rest) = take_config(Path::new("a.toml"), &args(&["debug"]));
        assert_eq!((config, rest), (PathBuf::from("a.toml"), args(&["debug"])));
    }
}
