//! `tapline dbt install` and `tapline dbt ARGS…`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::dbt::venv;
use crate::plan::Plan;

/// Installs the managed dbt, or runs dbt with the pipeline's environment.
pub fn dbt(config: &Path, args: &[String]) -> anyhow::Result<ExitCode> {
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

fn println_path(path: &Path) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{}", path.display());
}
