//! dbt with the pipeline's environment wired in: `TAPLINE_DATABASE`, `TAPLINE_DBT_SCHEMA_DIR`,
//! `DBT_PROFILES_DIR`, and no usage statistics. The managed dbt lives in [`venv`].

pub mod venv;

use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::plan::{DbtPlan, Plan};
use crate::relay::{Metrics, relay};
use crate::run::Interrupt;
use crate::summary::DbtStep;

/// The dbt to run: the pipeline's own, or the managed venv (installed on first use).
pub fn executable(dbt: &DbtPlan) -> anyhow::Result<PathBuf> {
    if let Some(exe) = &dbt.executable {
        return Ok(exe.clone());
    }
    let requirements = dbt.project_dir.join("requirements.txt");
    let venv = venv::ensure(&requirements, &mut |line| eprintln!("tapline: {line}"))?;
    Ok(venv::dbt_in(&venv))
}

/// A `dbt` command with the pipeline's environment.
pub fn command(dbt: &DbtPlan, args: &[String]) -> anyhow::Result<Command> {
    std::fs::create_dir_all(&dbt.schema_dir)
        .with_context(|| format!("creating dbt schema folder {}", dbt.schema_dir.display()))?;
    let mut command = Command::new(executable(dbt)?);
    command
        .args(args)
        .current_dir(&dbt.project_dir)
        .env("DBT_PROFILES_DIR", &dbt.project_dir)
        .env("TAPLINE_DATABASE", &dbt.database)
        .env("TAPLINE_DBT_SCHEMA_DIR", &dbt.schema_dir)
        .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false");
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        // Colours only where a person reads dbt's output live.
        command.env("DBT_USE_COLORS", "false");
    }
    Ok(command)
}

/// Runs each of the pipeline's dbt commands, streaming dbt's output to stderr; stops at the
/// first failure.
pub fn run_commands(
    plan: &Plan,
    dbt: &DbtPlan,
    interrupt: &Interrupt,
    steps: &mut Vec<DbtStep>,
) -> anyhow::Result<()> {
    for name in &dbt.commands {
        if interrupt.load(Ordering::SeqCst) {
            bail!("interrupted before dbt {name}");
        }
        let started = Instant::now();
        let args: Vec<String> = name.split_whitespace().map(str::to_string).collect();
        let mut child = crate::process::spawn(
            command(dbt, &args)?
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .with_context(|| format!("starting dbt {name}"))?;
        let metrics = std::sync::Arc::new(Metrics::default());
        let relays: Vec<_> = [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|from| {
            let secrets = plan.secrets.clone();
            let metrics = std::sync::Arc::clone(&metrics);
            std::thread::spawn(move || {
                relay(
                    BufReader::new(from),
                    &|line| eprintln!("{line}"),
                    "dbt",
                    &secrets,
                    &metrics,
                )
            })
        })
        .collect();
        let status = child
            .wait()
            .with_context(|| format!("waiting for dbt {name}"))?;
        for r in relays {
            let _ = r.join();
        }
        steps.push(DbtStep {
            command: name.clone(),
            ok: status.success(),
            seconds: started.elapsed().as_secs_f64(),
        });
        if !status.success() {
            bail!("dbt {name} failed ({status})");
        }
    }
    Ok(())
}

/// `tapline dbt ARGS…`: dbt with the pipeline's environment, output straight through.
pub fn passthrough(dbt: &DbtPlan, args: &[String]) -> anyhow::Result<ExitStatus> {
    command(dbt, args)?.status().context("running dbt")
}
