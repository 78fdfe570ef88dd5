//! One run of a pipeline: tap → tapline → target as three processes, each bookmark stored the
//! moment the target prints it, then dbt.

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use nix::sys::signal::Signal;
use serde_json::Value;

use crate::forward::{self, ForwardError};
use crate::handoff::{ChildFile, Handoff};
use crate::plan::Plan;
use crate::process::{signal_group, spawn};
use crate::progress::Progress;
use crate::relay::{Metrics, Tail, mask, relay_keeping};
use crate::state::{Backend, Shard, StateError};
use crate::state_store::{RunStatus, without_streams};
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
    /// Run one shard of the partitions ([`Shard`]), without dbt, merging its bookmarks.
    pub shard: Option<Shard>,
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
    sweep_leftovers();
    // A selection the tap does not know is the user's mistake, found before any run starts.
    let catalog = selected(plan, options)
        .map(|streams| select_streams(plan, streams))
        .transpose()?;
    let store = crate::state::open(&plan.state)?;
    let _lock = store.lock(&plan.name, options.shard)?;
    // With the pipeline's lock held alone, a run of it still `running` was killed (shards share
    // that lock with each other, so they leave this to the next unsharded run).
    if options.shard.is_none() {
        store.mark_killed(&plan.name)?;
    }
    owned_by_this_tap(plan, store.as_ref())?;
    let run_id = store.begin_run(&plan.name, &crate::now_rfc3339())?;
    let mut report = Report {
        pipeline: plan.name.clone(),
        tap: plan.tap.label.clone(),
        status: RunStatus::Running,
        exit_code: exit::OK,
        records: BTreeMap::new(),
        requests: 0,
        http: crate::summary::HttpEvents::default(),
        states_saved: 0,
        seconds: 0.0,
        dbt: Vec::new(),
        dbt_decision: None,
        tables: Vec::new(),
        error: None,
    };
    let outcome = load(
        plan,
        options,
        catalog,
        interrupt,
        store.as_ref(),
        run_id,
        &mut report,
    );
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
    // Shards run without dbt: one dbt step runs after all of them.
    if status == RunStatus::Success
        && options.shard.is_none()
        && let Some(dbt) = &plan.dbt
        && let Err(e) = crate::dbt::step(plan, dbt, options, interrupt, store.as_ref(), &mut report)
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
    // A store that lost its lock or connection still lets the report be printed.
    if let Err(e) = store.finish_run(
        run_id,
        report.status,
        report.seconds,
        &records,
        report.requests,
        report.error.as_deref(),
    ) {
        tracing::warn!("recording how the run ended: {e}");
    }
    Ok(report)
}

/// The stored bookmarks of a pipeline were written by another tap than the one its file names
/// now (another connector under the same `name`): they are not handed to this one.
#[derive(Debug, thiserror::Error)]
#[error(
    "{file}: name: the stored bookmarks of pipeline `{pipeline}` were written by {stored}, and this file's tap is {tap}: give this pipeline its own `name`, or forget them with `tapline state clear`"
)]
pub struct OtherTapsState {
    /// The pipeline file.
    pub file: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The tap that wrote the stored bookmarks.
    pub stored: String,
    /// The tap the file names.
    pub tap: String,
}

/// Refuses a state written by another tap; records this pipeline's tap as the state's owner.
fn owned_by_this_tap(plan: &Plan, store: &dyn Backend) -> anyhow::Result<()> {
    let tap = &plan.tap.label;
    match store.tap(&plan.name)? {
        Some(stored) if stored == *tap => return Ok(()),
        Some(stored) if store.state(&plan.name)?.is_some() => {
            return Err(OtherTapsState {
                file: plan.file.display().to_string(),
                pipeline: plan.name.clone(),
                stored,
                tap: tap.clone(),
            }
            .into());
        }
        _ => {}
    }
    store.set_tap(&plan.name, tap)?;
    Ok(())
}

/// Removes the temporary folders of tapline runs that were killed ([`crate::run_dir::sweep`]).
fn sweep_leftovers() {
    for folder in crate::run_dir::sweep(&std::env::temp_dir()) {
        tracing::info!(
            "removed {}, left by a run that was killed",
            folder.display()
        );
    }
}

/// Tap, target and the threads between them.
fn load(
    plan: &Plan,
    options: &Options,
    catalog: Option<Value>,
    interrupt: &Interrupt,
    store: &dyn Backend,
    run_id: i64,
    report: &mut Report,
) -> anyhow::Result<()> {
    // Configs hold tokens: they are handed to the children in memory, never written to disk.
    let mut handoff = Handoff::from_env();
    let mut tap_settings = plan.tap.config.clone();
    if let Some(shard) = options.shard {
        let value = format!("{}/{}", shard.index, shard.count);
        tap_settings.insert("shard".into(), Value::String(value));
    }
    let tap_config = handoff.file("tap.json", &Value::Object(tap_settings))?;
    let target_config = handoff.file("target.json", &Value::Object(plan.target.config.clone()))?;
    let mut tap_files: Vec<(&str, ChildFile)> = Vec::new();
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
    if let Some(state) = &tap_state {
        tap_files.push(("--state", handoff.file("state.json", state)?));
    }
    if let Some(catalog) = catalog {
        tap_files.push((
            plan.catalog_flag.as_str(),
            handoff.file("catalog.json", &catalog)?,
        ));
    }

    let mut target_command = Command::new(&plan.target.path);
    target_command
        .arg("--config")
        .arg(target_config.path())
        .current_dir(&plan.base_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    target_config.pass_to(&mut target_command);
    let mut target = spawn(&mut target_command)
        .with_context(|| format!("starting target {}", plan.target.path.display()))?;
    let mut tap_command = Command::new(&plan.tap.path);
    tap_command
        .args(&plan.tap.args)
        .arg("--config")
        .arg(tap_config.path());
    tap_config.pass_to(&mut tap_command);
    for (flag, file) in &tap_files {
        tap_command.arg(flag).arg(file.path());
        file.pass_to(&mut tap_command);
    }
    tap_command
        .current_dir(&plan.base_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut tap = match spawn(&mut tap_command) {
        Ok(tap) => tap,
        Err(e) => {
            let _ = target.kill();
            let _ = target.wait();
            return Err(e).with_context(|| format!("starting tap {}", plan.tap.path.display()));
        }
    };

    let metrics = Arc::new(Metrics::default());
    let progress = Arc::new(Progress::new(options.quiet, Arc::clone(&metrics)));
    let tails = [Arc::new(Tail::default()), Arc::new(Tail::default())];
    let relays = [
        relay_thread(
            tap.stderr.take(),
            &plan.tap.label,
            plan,
            (&metrics, &tails[0]),
            &progress,
        ),
        relay_thread(
            target.stderr.take(),
            &plan.target.label,
            plan,
            (&metrics, &tails[1]),
            &progress,
        ),
    ];
    let saved = Arc::new(AtomicU64::new(0));
    let writes = Writes {
        full_refresh: options.full_refresh,
        merge_base: options.shard.map(|_| tap_state),
        tap_pid: tap.id(),
    };
    let states = store_states(target.stdout.take(), plan, store, run_id, writes, &saved)?;
    let forwarder = {
        let tap_out = tap.stdout.take().context("tap stdout")?;
        let target_in = target.stdin.take().context("target stdin")?;
        let progress_view = Arc::clone(&progress);
        std::thread::spawn(move || {
            let mut target_in = BufWriter::with_capacity(1 << 16, target_in);
            let (counts, result) = forward::forward(
                BufReader::with_capacity(1 << 16, tap_out),
                &mut target_in,
                |counts| progress_view.update(counts),
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
    report.http = crate::summary::HttpEvents::from(metrics.as_ref());
    report.states_saved = saved.load(Ordering::Relaxed);

    let interrupted = interrupt.load(Ordering::SeqCst);
    // A bookmark the store refused (its run lock lost) stopped the tap: that is the cause.
    if let Err(e) = &states_error
        && e.downcast_ref::<StateError>().is_some()
    {
        return states_error;
    }
    match forwarded {
        Err(ForwardError::Write(_)) | Ok(_) => {}
        Err(e) => bail!(e),
    }
    let cause = |tail: &Tail| tail.cause().map_or_else(String::new, |c| format!(": {c}"));
    if (target_gone || !target_status.success()) && !interrupted {
        bail!(
            "{} failed ({target_status}){}",
            plan.target.label,
            cause(&tails[1])
        );
    }
    if !tap_status.success() && !interrupted {
        bail!(
            "{} failed ({tap_status}){}; the database keeps what the last stored bookmark covers",
            plan.tap.label,
            cause(&tails[0])
        );
    }
    states_error?;
    Ok(())
}

/// A `--select` or `select` naming streams the tap does not have.
#[derive(Debug, thiserror::Error)]
#[error("select: unknown stream(s) {unknown} (the tap has: {known})")]
pub struct UnknownStreams {
    /// The names not found, comma-separated.
    pub unknown: String,
    /// The tap's streams, comma-separated.
    pub known: String,
}

/// Runs the tap's `--discover` with its config handed over in memory and selects `streams` in
/// its catalog.
fn select_streams(plan: &Plan, streams: &[String]) -> anyhow::Result<Value> {
    let mut handoff = Handoff::from_env();
    let config = handoff.file("tap.json", &Value::Object(plan.tap.config.clone()))?;
    discover(plan, &config, streams)
}

/// Runs the tap's `--discover` and selects `streams` in its catalog.
fn discover(plan: &Plan, tap_config: &ChildFile, streams: &[String]) -> anyhow::Result<Value> {
    let mut command = Command::new(&plan.tap.path);
    command
        .args(&plan.tap.args)
        .arg("--config")
        .arg(tap_config.path())
        .arg("--discover")
        .current_dir(&plan.base_dir)
        .stderr(Stdio::piped());
    tap_config.pass_to(&mut command);
    let output = command
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
        return Err(UnknownStreams {
            unknown: unknown.join(", "),
            known: known.join(", "),
        }
        .into());
    }
    Ok(serde_json::to_value(catalog)?)
}

fn relay_thread(
    from: Option<impl std::io::Read + Send + 'static>,
    label: &str,
    plan: &Plan,
    (metrics, tail): (&Arc<Metrics>, &Arc<Tail>),
    progress: &Arc<Progress>,
) -> Option<JoinHandle<()>> {
    let from = from?;
    let label = label.to_string();
    let secrets = plan.secrets.clone();
    let metrics = Arc::clone(metrics);
    let tail = Arc::clone(tail);
    let progress = Arc::clone(progress);
    Some(std::thread::spawn(move || {
        relay_keeping(
            BufReader::new(from),
            &|line| progress.println(line),
            &label,
            &secrets,
            &metrics,
            &tail,
        );
    }))
}

/// How the bookmarks of a run are stored.
struct Writes {
    /// Into the full refresh's slot.
    full_refresh: bool,
    /// A shard's: merged into the stored state, given the state its tap was started with.
    merge_base: Option<Option<Value>>,
    /// The tap, stopped when the store refuses a bookmark.
    tap_pid: u32,
}

/// Stores every line the target prints as the pipeline's bookmark, the moment it arrives. When
/// the store refuses one (the run's lock is lost), the tap is stopped and nothing more is
/// stored.
fn store_states(
    from: Option<std::process::ChildStdout>,
    plan: &Plan,
    store: &dyn Backend,
    run_id: i64,
    writes: Writes,
    saved: &Arc<AtomicU64>,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let from = from.context("target stdout")?;
    let store = store.reopen(run_id)?;
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
                    let stored = match (&writes.merge_base, writes.full_refresh) {
                        (_, true) => store.set_refresh_state(&name, &value),
                        (Some(base), false) => store.merge_state(&name, base.as_ref(), &value),
                        (None, false) => store.set_state(&name, &value),
                    };
                    if let Err(e) = stored {
                        if let Ok(pid) = i32::try_from(writes.tap_pid) {
                            let _ = nix::sys::signal::killpg(
                                nix::unistd::Pid::from_raw(pid),
                                Signal::SIGTERM,
                            );
                        }
                        return Err(anyhow::Error::new(e));
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
