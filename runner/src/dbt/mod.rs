//! dbt with the pipeline's environment wired in: `TAPLINE_DATABASE`, `TAPLINE_DBT_SCHEMA_DIR`,
//! `DBT_PROFILES_DIR`, a target path of the pipeline's own (so partial parsing is kept between
//! runs), and no usage statistics. After a load, dbt runs only when it has work ([`decision`]),
//! and its output is made to fit on a screen ([`console`]). The managed dbt lives in [`venv`].

pub mod console;
pub mod decision;
pub mod fingerprint;
pub mod venv;

use std::io::BufRead as _;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::plan::{DbtPlan, Plan};
use crate::relay::mask;
use crate::run::{Interrupt, Options};
use crate::state::Backend;
use crate::summary::{DbtStep, Report};
use console::Console;
use decision::{DbtMode, Decision};
use fingerprint::Fingerprint;

/// The folder tapline keeps for a pipeline beside its file: `.tapline/<name>/`.
pub fn pipeline_dir(plan: &Plan) -> PathBuf {
    let name: String = plan
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    plan.base_dir.join(".tapline").join(name)
}

/// dbt's target path for the pipeline (manifest, partial parse, compiled SQL).
pub fn target_path(plan: &Plan) -> PathBuf {
    pipeline_dir(plan).join("dbt-target")
}

/// The file holding the whole output of the pipeline's last dbt step.
pub fn log_path(plan: &Plan) -> PathBuf {
    pipeline_dir(plan).join("dbt.log")
}

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
pub fn command(plan: &Plan, dbt: &DbtPlan, args: &[String]) -> anyhow::Result<Command> {
    std::fs::create_dir_all(&dbt.schema_dir)
        .with_context(|| format!("creating dbt schema folder {}", dbt.schema_dir.display()))?;
    let mut command = Command::new(executable(dbt)?);
    command
        .args(args)
        .current_dir(&dbt.project_dir)
        .env("DBT_PROFILES_DIR", &dbt.project_dir)
        .env("DBT_TARGET_PATH", target_path(plan))
        .env("DBT_LOG_PATH", pipeline_dir(plan).join("dbt-logs"))
        .env("TAPLINE_DATABASE", &dbt.database)
        .env("TAPLINE_DBT_SCHEMA_DIR", &dbt.schema_dir)
        .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false");
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        // Colours only where a person reads dbt's output live.
        command.env("DBT_USE_COLORS", "false");
    }
    Ok(command)
}

/// dbt after a successful load: decides whether it has work (the decision goes into
/// `report`), runs the commands, and remembers the fingerprint of what it read once they all
/// succeed.
pub fn step(
    plan: &Plan,
    dbt: &DbtPlan,
    options: &Options,
    interrupt: &Interrupt,
    store: &dyn Backend,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mode = if options.no_dbt {
        DbtMode::Never
    } else {
        options.dbt
    };
    let target = target_path(plan);
    let current = (mode == DbtMode::Auto).then(|| fingerprint::take(dbt, &target));
    let last = store
        .dbt_fingerprint(&plan.name)?
        .and_then(|(value, at)| Some((serde_json::from_value::<Fingerprint>(value).ok()?, at)));
    let decision = match &current {
        Some(Ok((fingerprint, _))) => decision::decide(
            mode,
            Ok(fingerprint),
            last.as_ref().map(|(f, at)| (f, at.as_str())),
        ),
        Some(Err(e)) => decision::decide(mode, Err(e.to_string()), None),
        None => decision::decide(mode, Err(String::new()), None),
    };
    let ran = decision.ran;
    report.dbt_decision = Some(Decision {
        reason: mask(&decision.reason, &plan.secrets),
        ..decision
    });
    if !ran {
        return Ok(());
    }
    // Until the commands succeed there is no successful run to compare with.
    store.clear_dbt_fingerprint(&plan.name)?;
    run_commands(plan, dbt, options, interrupt, &mut report.dbt)?;
    // Taken again now: dbt's tables exist and the manifest names the sources.
    match fingerprint::take(dbt, &target) {
        Ok((fingerprint, _)) => store.set_dbt_fingerprint(
            &plan.name,
            &serde_json::to_value(&fingerprint)?,
            &crate::now_rfc3339(),
        )?,
        Err(e) => {
            tracing::warn!("dbt's inputs cannot be fingerprinted, so it runs every time: {e}")
        }
    }
    Ok(())
}

/// Runs each of the pipeline's dbt commands; stops at the first failure. Output goes through a
/// [`Console`]: one line per command, failures in full, everything in [`log_path`].
fn run_commands(
    plan: &Plan,
    dbt: &DbtPlan,
    options: &Options,
    interrupt: &Interrupt,
    steps: &mut Vec<DbtStep>,
) -> anyhow::Result<()> {
    let log = log_path(plan);
    // One log per step, each command appended.
    let _ = std::fs::remove_file(&log);
    for name in &dbt.commands {
        if interrupt.load(Ordering::SeqCst) {
            bail!("interrupted before dbt {name}");
        }
        let started = Instant::now();
        let console = Console::create(&log, options.verbose, options.quiet)
            .with_context(|| format!("writing {}", log.display()))?;
        let console = Arc::new(Mutex::new(console));
        let args: Vec<String> = name.split_whitespace().map(str::to_string).collect();
        let mut child = crate::process::spawn(
            command(plan, dbt, &args)?
                .env("DBT_LOG_FORMAT", "json")
                .env("DBT_USE_COLORS", "false")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .with_context(|| format!("starting dbt {name}"))?;
        let readers: Vec<_> = [
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
            let console = Arc::clone(&console);
            std::thread::spawn(move || {
                for line in BufReader::new(from).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut console) = console.lock() {
                        console.line(&mask(&line, &secrets));
                    }
                }
            })
        })
        .collect();
        let status = child
            .wait()
            .with_context(|| format!("waiting for dbt {name}"))?;
        for r in readers {
            let _ = r.join();
        }
        let seconds = started.elapsed().as_secs_f64();
        let console = Arc::into_inner(console)
            .and_then(|c| c.into_inner().ok())
            .context("dbt's output readers still hold its console")?;
        console.finish(name, status.success(), seconds);
        steps.push(DbtStep {
            command: name.clone(),
            ok: status.success(),
            seconds,
        });
        if !status.success() {
            bail!(
                "dbt {name} failed ({status}); its whole output: {}",
                log.display()
            );
        }
    }
    Ok(())
}

/// `tapline dbt ARGS…`: dbt with the pipeline's environment, output straight through.
pub fn passthrough(plan: &Plan, dbt: &DbtPlan, args: &[String]) -> anyhow::Result<ExitStatus> {
    command(plan, dbt, args)?.status().context("running dbt")
}
