//! `tapline report`: a self-contained HTML page (inline SVG, no script, no network) of the marts
//! dbt built from the pipeline's SQLite database.

pub mod charts;
pub mod html;
pub mod queries;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::plan::Plan;

/// The report's file name, in the pipeline's folder.
pub const FILE_NAME: &str = "report.html";

/// Reads the marts of `plan`'s database and writes the report beside the pipeline file;
/// returns its path.
pub fn write(plan: &Plan) -> anyhow::Result<PathBuf> {
    let database = database(plan)?;
    let marts = crate::plan::schema_dir_for(&database).join("main_dbt.db");
    let data = queries::ReportData::read(&marts)?;
    let page = html::page(
        &data,
        &html::Origin {
            pipeline: &plan.name,
            generated_at: &generated_at(),
            source: &marts.display().to_string(),
        },
    );
    let path = plan.base_dir.join(FILE_NAME);
    std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Now, to the minute: `2026-12-01 16:35 UTC`.
fn generated_at() -> String {
    let now = crate::now_rfc3339();
    format!("{} UTC", now.get(..16).unwrap_or(&now).replace('T', " "))
}

/// The SQLite database the marts sit beside: dbt's, else the target's `database`.
fn database(plan: &Plan) -> anyhow::Result<PathBuf> {
    if let Some(dbt) = &plan.dbt {
        return Ok(dbt.database.clone());
    }
    plan.target
        .config
        .get("database")
        .and_then(serde_json::Value::as_str)
        .map(|db| plan.base_dir.join(Path::new(db)))
        .context("the report reads a SQLite database: [target.config] has no `database`")
}
