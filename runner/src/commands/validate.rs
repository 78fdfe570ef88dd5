//! `tapline validate`: everything `tapline run` checks before it starts, and nothing run.

use std::path::Path;
use std::process::ExitCode;

use crate::plan::Plan;
use crate::run::exit;
use crate::settings_check::{self, Checked};

/// Checks the pipeline file, the executables, the tap's and target's configs against their
/// schemas, the dbt project (unless `no_dbt`) and the state location; exit 0 or 2.
pub fn validate(config: &Path, no_dbt: bool) -> anyhow::Result<ExitCode> {
    let plan = match Plan::load_for(config, !no_dbt) {
        Ok(plan) => plan,
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("tapline: error: {line}");
            }
            return Ok(ExitCode::from(exit::CONFIG));
        }
    };
    let mut problems = Vec::new();
    let checked = settings_check::check(&plan).unwrap_or_else(|found| {
        problems.extend(found);
        [Checked::AgainstSchema, Checked::AgainstSchema]
    });
    if let Err(p) = settings_check::state_writable(&plan.state_db) {
        problems.push(p);
    }
    if !problems.is_empty() {
        for p in problems {
            eprintln!("tapline: error: {}: {p}", config.display());
        }
        return Ok(ExitCode::from(exit::CONFIG));
    }
    let how = |c: &Checked| match c {
        Checked::AgainstSchema => "config matches its --about schema",
        Checked::NoSchema => "no --about schema: config not checked",
    };
    eprintln!(
        "tapline: {} is valid\n  tap    {} ({})\n  target {} ({})\n  dbt    {}\n  state  {}",
        config.display(),
        plan.tap.path.display(),
        how(&checked[0]),
        plan.target.path.display(),
        how(&checked[1]),
        plan.dbt.as_ref().map_or_else(
            || "not run".to_string(),
            |d| format!("{} ({})", d.project_dir.display(), d.commands.join(", "))
        ),
        plan.state_db.display()
    );
    Ok(ExitCode::SUCCESS)
}
