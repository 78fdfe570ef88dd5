//! `tapline report`: writes the HTML report of the marts and prints its path.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::plan::Plan;

/// Writes `report.html` into the pipeline's folder and prints its path on stdout.
pub fn report(config: &Path) -> anyhow::Result<ExitCode> {
    let plan = match Plan::load(config) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("tapline: error: {e}");
            return Ok(ExitCode::from(crate::run::exit::CONFIG));
        }
    };
    let path = crate::report::write(&plan)?;
    writeln!(std::io::stdout().lock(), "{}", path.display())?;
    Ok(ExitCode::SUCCESS)
}
