//! `tapline validate`: everything `tapline run` checks before it starts, and nothing run.

use std::path::Path;
use std::process::ExitCode;

use crate::plan::Plan;
use crate::run::exit;
use crate::settings_check::{self, Checked};

/// The pipeline loaded and its programs' configs checked, or every problem found, each line
/// naming the file and the key. When the plan fails, the configs are still checked (with the
/// `[dbt]` section set aside) so that one pass shows everything.
pub fn checked_plan(config: &Path, dbt: bool) -> Result<(Plan, [Checked; 2]), Vec<String>> {
    let prefixed = |found: Vec<String>| -> Vec<String> {
        found
            .into_iter()
            .map(|p| format!("{}: {p}", config.display()))
            .collect()
    };
    match Plan::load_for(config, dbt) {
        Ok(plan) => match settings_check::check(&plan) {
            Ok(checked) => Ok((plan, checked)),
            Err(found) => Err(prefixed(found)),
        },
        Err(e) => {
            let mut problems: Vec<String> = e.to_string().lines().map(String::from).collect();
            if dbt
                && let Ok(Err(found)) =
                    Plan::load_for(config, false).map(|p| settings_check::check(&p))
            {
                problems.extend(prefixed(found));
            }
            Err(problems)
        }
    }
}

/// Checks the pipeline file, the executables, the tap's and target's configs against their
/// schemas, the dbt project (unless `no_dbt`) and the state location; exit 0 or 2.
pub fn validate(config: &Path, no_dbt: bool) -> anyhow::Result<ExitCode> {
    let state = crate::plan::state_location(config)
        .ok()
        .and_then(|(_, db)| settings_check::state_writable(&db).err())
        .map(|p| format!("{}: {p}", config.display()));
    let (plan, checked) = match (checked_plan(config, !no_dbt), state) {
        (Ok(done), None) => done,
        (Ok(_), Some(state)) => return Ok(refuse(&[state])),
        (Err(mut problems), state) => {
            problems.extend(state);
            return Ok(refuse(&problems));
        }
    };
    let how = |c: &Checked| match c {
        Checked::AgainstSchema => "config matches its --about schema",
        Checked::NoSchema => "no usable --about schema: config not checked",
    };
    eprintln!(
        "tapline: {} is valid\n  tap    {} ({})\n  target {} ({})\n  dbt    {}\n  state  {}",
        config.display(),
        command_line(&plan.tap),
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

/// `path --definitions gitlab` as typed on a command line.
fn command_line(program: &crate::plan::Program) -> String {
    std::iter::once(program.path.as_os_str())
        .chain(program.args.iter().map(|a| a.as_os_str()))
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

fn refuse(problems: &[String]) -> ExitCode {
    for p in problems {
        eprintln!("tapline: error: {p}");
    }
    ExitCode::from(exit::CONFIG)
}
