//! One run of a pipeline: tap → tapline → target as three processes, each bookmark stored the
//! moment the target prints it, then dbt.

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use nix::sys::signal::Signal;
use serde_json::Value;

use crate::forward::{self, ForwardError};
use crate::plan::Plan;
use crate::process::{signal_group, spawn};
use crate::progress::Progress;
use crate::relay::{Metrics, mask, relay};
use crate::state_store::{RunStatus, StateStore, without_streams};
use crate::summary::{Report, table_rows};

/// Exit codes, as the README documents them.
pub mod exit {
    /// Everything succeeded.
    pub const OK: u8 = 0;
    /// The tap or the target failed.
    pub const LOAD_FAILED: u8 = 1;
    /// The pipeline file is wrong.
    pub const CONFIG: u8 = 2;
    /// dbt failed after a successful load.
    pub const DBT_FAILED: u8 = 3;
    /// Ctrl-C or SIGTERM.
    pub const INTERRUPTED: u8 = 130;
}

/// Choices of `tapline run` beyond the pipeline file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Re-extract the selected streams ([`selected`]; every stream without a selection) without
    /// their bookmarks, and replace only those bookmarks when the load succeeds.
    pub full_refresh: bool,
    /// Streams to select instead of the file's `select`.
    pub select: Option<Vec<String>>,
    /// Skip dbt (as `--dbt never`).
    pub no_dbt: bool,
    /// When dbt runs after a successful load.
    pub dbt: crate::dbt::decision::DbtMode,
    /// No progress display.
    pub quiet: bool,
    /// Every line of dbt's output, not just the failures.
    pub verbose: bool,
}

/// Set by the signal handler: stop the tap, keep what the target committed.
pub type Interrupt = Arc<AtomicBool>;

/// The streams a run selects, and so the ones a full refresh re-extracts: `--select`, else the
/// pipeline file's `select`; `None` means every stream.
pub fn selected<'a>(plan: &'a Plan, options: &'a Options) -> Option<&'a [String]> {
    options.select.as_deref().or(plan.select.as_deref())
}

/// Runs `plan` once; the report says how it ended (its `exit_code` included).
pub fn run(plan: &Plan, options: &Options, interrupt: &Interrupt) -> anyhow::Result<Report> {
    let started = Instant::now();
    let store = StateStore::open(&plan.state_db)?;
    let _lock = store.lock(&plan.name)?;
    let run_id = store.begin_run(&plan.name, &crate::now_rfc3339())?;
    let mut report = Report {
        pipeline: plan.name.clone(),
        status: RunStatus::Running,
        exit_code: exit::OK,
        records: BTreeMap::new(),
        requests: 0,
        states_saved: 0,
        seconds: 0.0,
        dbt: Vec::new(),
        dbt_decision: None,
        tables: Vec::new(),
        error: None,
    };
    let outcome = load(plan, options, interrupt, &store, &mut report);
    let interrupted = interrupt.load(Ordering::SeqCst);
    // A full refresh's bookmarks replace the stored ones only when it succeeded.
    let outcome = match outcome {
        Ok(()) if options.full_refresh && !interrupted => store
            .promote_refresh(&plan.name, selected(plan, options))
            .context("keeping the full refresh's bookmarks"),
        other => other,
    };
    let (status, code, error) = match outcome {
        Ok(()) if interrupted => (
            RunStatus::Interrupted,
            exit::INTERRUPTED,
            Some("interrupted".to_string()),
        ),
        Ok(()) => (RunStatus::Success, exit::OK, None),
        Err(e) if interrupted => (
            RunStatus::Interrupted,
            exit::INTERRUPTED,
            Some(format!("interrupted: {e:#}")),
        ),
        Err(e) => (RunStatus::Failed, exit::LOAD_FAILED, Some(format!("{e:#}"))),
    };
    report.status = status;
    report.exit_code = code;
    report.error = error.map(|e| mask(&e, &plan.secrets));
    if status == RunStatus::Success
        && let Some(dbt) = &plan.dbt
        && let Err(e) = crate::dbt::step(plan, dbt, options, interrupt, &store, &mut report)
    {
        report.status = RunStatus::DbtFailed;
        report.exit_code = exit::DBT_FAILED;
        report.error = Some(mask(&format!("{e:#}"), &plan.secrets));
    }
    let database = plan.dbt.as_ref().map(|d| d.database.clone()).or_else(|| {
        plan.target
            .config
            .get("database")
            .and_then(Value::as_str)
            .map(|d| plan.base_dir.join(d))
    });
    if let Some(database) = database {
        let schema_dir = crate::plan::schema_dir_for(&database);
        report.tables = table_rows(&database, Some(&schema_dir));
    }
    report.seconds = started.elapsed().as_secs_f64();
    let records = serde_json::to_value(&report.records).unwrap_or_default();
    store.finish_run(
        run_id,
        report.status,
        report.seconds,
        &records,
        report.requests,
        report.error.as_deref(),
    )?;
    Ok(report)
}

/// Tap, target and the threads between them.
fn load(
    plan: &Plan,
    options: &Options,
    interrupt: &Interrupt,
    store: &StateStore,
    report: &mut Report,
) -> anyhow::Result<()> {
    // Configs hold tokens: a private folder, removed when the run ends.
    let tmp = tempfile::Builder::new()
        .prefix("tapline-")
        .tempdir()
        .context("creating a temporary folder")?;
    let tap_config = private_json(
        tmp.path(),
        "tap.json",
        &Value::Object(plan.tap.config.clone()),
    )?;
    let target_config = private_json(
        tmp.path(),
        "target.json",
        &Value::Object(plan.target.config.clone()),
    )?;
    let mut tap_args: Vec<PathBuf> = vec!["--config".into(), tap_config.clone()];
    if options.full_refresh {
        // What an earlier, failed full refresh saved must not be promoted by this one.
        store.discard_refresh(&plan.name)?;
    }
    // A full refresh of every stream never reads the stored state, so it also gets over one
    // that is unreadable.
    let tap_state = match (options.full_refresh, selected(plan, options)) {
        (false, _) => store.state(&plan.name)?,
        (true, None) => None,
        // The other streams' bookmarks stay visible to the tap.
        (true, Some(streams)) => store
            .state(&plan.name)?
            .map(|state| without_streams(&plan.name, state, streams))
            .transpose()?,
    };
    if let Some(state) = tap_state {
        tap_args.extend([
            "--state".into(),
            private_json(tmp.path(), "state.json", &state)?,
        ]);
    }
    if let Some(select) = selected(plan, options) {
        let catalog = discover(plan, &tap_config, select)?;
        tap_args.extend([
            plan.catalog_flag.as_str().into(),
            private_json(tmp.path(), "catalog.json", &catalog)?,
        ]);
    }

    let mut target = spawn(
        Command::new(&plan.target.path)
            .arg("--config")
            .arg(&target_config)
            .current_dir(&plan.base_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .with_context(|| format!("starting target {}", plan.target.path.display()))?;
    let mut tap = match spawn(
        Command::new(&plan.tap.path)
            .args(&tap_args)
            .current_dir(&plan.base_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    ) {
        Ok(tap) => tap,
        Err(e) => {
            let _ = target.kill();
            let _ = target.wait();
            return Err(e).with_context(|| format!("starting tap {}", plan.tap.path.display()));
        }
    };

    let metrics = Arc::new(Metrics::default());
    let progress = Arc::new(Progress::new(options.quiet));
    let relays = [
        relay_thread(
            tap.stderr.take(),
            &plan.tap.label,
            plan,
            &metrics,
            &progress,
        ),
        relay_thread(
            target.stderr.take(),
            &plan.target.label,
            plan,
            &metrics,
            &progress,
        ),
    ];
    let saved = Arc::new(AtomicU64::new(0));
    let states = store_states(target.stdout.take(), plan, options.full_refresh, &saved)?;
    let forwarder = {
        let tap_out = tap.stdout.take().context("tap stdout")?;
        let target_in = target.stdin.take().context("target stdin")?;
        let progress_view = Arc::clone(&progress);
        let requests = Arc::clone(&metrics);
        std::thread::spawn(move || {
            let mut target_in = BufWriter::with_capacity(1 << 16, target_in);
            let (counts, result) = forward::forward(
                BufReader::with_capacity(1 << 16, tap_out),
                &mut target_in,
                |counts| progress_view.update(counts, requests.requests()),
            );
            (counts, result, target_in)
        })
    };
    let watchdog = watch_interrupt(interrupt, &tap);

    let (counts, forwarded, target_in) = forwarder
        .join()
        .map_err(|_| anyhow::anyhow!("forwarding thread panicked"))?;
    // The target stopped reading: it failed, and is the one to blame.
    let target_gone = matches!(forwarded, Err(ForwardError::Write(_)));
    if forwarded.is_err() {
        signal_group(&tap, Signal::SIGTERM);
    }
    let tap_status = tap.wait().context("waiting for the tap")?;
    // End of input: the target commits what it has and prints its last bookmark, which is kept.
    // Records after the tap's last STATE are committed too and sent again by the next run; keys
    // make that harmless (the target upserts).
    drop(target_in);
    let target_status = target.wait().context("waiting for the target")?;
    drop(watchdog);
    let states_error = states
        .join()
        .map_err(|_| anyhow::anyhow!("state thread panicked"))?;
    for relay in relays.into_iter().flatten() {
        let _ = relay.join();
    }
    progress.finish();
    report.records = counts.records;
    report.requests = metrics.requests();
    report.states_saved = saved.load(Ordering::Relaxed);

    let interrupted = interrupt.load(Ordering::SeqCst);
    match forwarded {
        Err(ForwardError::Write(_)) | Ok(_) => {}
        Err(e) => bail!(e),
    }
    if (target_gone || !target_status.success()) && !interrupted {
        bail!("{} failed ({target_status})", plan.target.label);
    }
    if !tap_status.success() && !interrupted {
        bail!(
            "{} failed ({tap_status}); the database keeps what the last stored bookmark covers",
            plan.tap.label
        );
    }
    states_error?;
    Ok(())
}

/// Writes `value` as JSON into a file only the user can read.
fn private_json(dir: &Path, name: &str, value: &Value) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    serde_json::to_writer(&mut file, value)?;
    file.flush()?;
    Ok(path)
}

/// Runs the tap's `--discover` and selects `streams` in its catalog.
fn discover(plan: &Plan, tap_config: &Path, streams: &[String]) -> anyhow::Result<Value> {
    let output = Command::new(&plan.tap.path)
        .arg("--config")
        .arg(tap_config)
        .arg("--discover")
        .current_dir(&plan.base_dir)
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running {} --discover", plan.tap.label))?;
    if !output.status.success() {
        let stderr = mask(&String::from_utf8_lossy(&output.stderr), &plan.secrets);
        bail!("{} --discover failed: {}", plan.tap.label, stderr.trim());
    }
    let mut catalog: singer::Catalog = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("{} --discover printed no valid catalog", plan.tap.label))?;
    let names: Vec<&str> = streams.iter().map(String::as_str).collect();
    let unknown = catalog.select_only(&names);
    if !unknown.is_empty() {
        let known: Vec<&str> = catalog
            .streams
            .iter()
            .map(|s| s.tap_stream_id.as_str())
            .collect();
        bail!(
            "select: unknown stream(s) {} (the tap has: {})",
            unknown.join(", "),
            known.join(", ")
        );
    }
    Ok(serde_json::to_value(catalog)?)
}

fn relay_thread(
    from: Option<impl std::io::Read + Send + 'static>,
    label: &str,
    plan: &Plan,
    metrics: &Arc<Metrics>,
    progress: &Arc<Progress>,
) -> Option<JoinHandle<()>> {
    let from = from?;
    let label = label.to_string();
    let secrets = plan.secrets.clone();
    let metrics = Arc::clone(metrics);
    let progress = Arc::clone(progress);
    Some(std::thread::spawn(move || {
        relay(
            BufReader::new(from),
            &|line| progress.println(line),
            &label,
            &secrets,
            &metrics,
        );
    }))
}

/// Stores every line the target prints as the pipeline's bookmark, the moment it arrives.
fn store_states(
    from: Option<std::process::ChildStdout>,
    plan: &Plan,
    full_refresh: bool,
    saved: &Arc<AtomicU64>,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let from = from.context("target stdout")?;
    let store = StateStore::open(&plan.state_db)?;
    let name = plan.name.clone();
    let label = plan.target.label.clone();
    let saved = Arc::clone(saved);
    Ok(std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut problem = None;
        for (number, line) in BufReader::new(from).lines().enumerate() {
            let line = line.context("reading the target's output")?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(&line) {
                Ok(value) => {
                    if full_refresh {
                        store.set_refresh_state(&name, &value)?;
                    } else {
                        store.set_state(&name, &value)?;
                    }
                    saved.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    problem.get_or_insert(anyhow::anyhow!(
                        "{label} printed line {} that is not a STATE value: {e}",
                        number + 1
                    ));
                }
            }
        }
        problem.map_or(Ok(()), Err)
    }))
}

/// While it lives, turns an interrupt into SIGTERM for the tap (a second one is the signal
/// handler's business).
struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn watch_interrupt(interrupt: &Interrupt, tap: &Child) -> Watchdog {
    let stop = Arc::new(AtomicBool::new(false));
    let pid = tap.id();
    let thread = {
        let stop = Arc::clone(&stop);
        let interrupt = Arc::clone(interrupt);
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if interrupt.load(Ordering::SeqCst) {
                    if let Ok(pid) = i32::try_from(pid) {
                        let _ = nix::sys::signal::killpg(
                            nix::unistd::Pid::from_raw(pid),
                            Signal::SIGTERM,
                        );
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    Watchdog {
        stop,
        thread: Some(thread),
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
