//! The live view of a run on stderr: a spinner line (records per stream, requests, rate,
//! elapsed, what the tap is doing) on a terminal, a plain line every few seconds otherwise —
//! also while no record flows — and nothing when quiet. Relayed child output goes through it so
//! the two never garble each other. Stdout is never touched.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::forward::Counts;
use crate::relay::Metrics;

/// How often the terminal line is redrawn.
const REDRAW: Duration = Duration::from_millis(100);

/// How often a plain line is printed: 5 s, or `TAPLINE_PROGRESS_EVERY_MS`.
fn plain_every() -> Duration {
    std::env::var("TAPLINE_PROGRESS_EVERY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis)
}

/// A run's progress display.
pub struct Progress {
    view: Arc<View>,
    quiet: bool,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

/// What the ticker shows.
struct View {
    bar: Option<ProgressBar>,
    started: Instant,
    records: Mutex<BTreeMap<String, u64>>,
    metrics: Arc<Metrics>,
}

impl Progress {
    /// A spinner when stderr is a terminal, plain lines otherwise, nothing when `quiet` (child
    /// lines included).
    pub fn new(quiet: bool, metrics: Arc<Metrics>) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (terminal && !quiet).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(REDRAW);
            bar
        });
        let every = if terminal { REDRAW } else { plain_every() };
        let view = Arc::new(View {
            bar,
            started: Instant::now(),
            records: Mutex::new(BTreeMap::new()),
            metrics,
        });
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = (!quiet).then(|| {
            let (view, stop) = (Arc::clone(&view), Arc::clone(&stop));
            std::thread::spawn(move || tick(&view, &stop, every))
        });
        Self {
            view,
            quiet,
            stop,
            ticker: Mutex::new(ticker),
        }
    }

    /// Takes the counts so far; cheap enough to call for every line.
    pub fn update(&self, counts: &Counts) {
        if self.quiet || !counts.lines.is_multiple_of(64) {
            return;
        }
        if let Ok(mut records) = self.view.records.lock() {
            records.clone_from(&counts.records);
        }
    }

    /// Prints a line of child output above the live line; nothing when quiet.
    pub fn println(&self, line: &str) {
        if self.quiet {
            return;
        }
        match &self.view.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    /// Stops the ticker and removes the live line.
    pub fn finish(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(ticker) = self.ticker.lock().ok().and_then(|mut t| t.take()) {
            let _ = ticker.join();
        }
        if let Some(bar) = &self.view.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Shows the view every `every` until `stop`, whether or not records flow.
fn tick(view: &View, stop: &AtomicBool, every: Duration) {
    let mut last = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(every.min(Duration::from_millis(50)));
        if last.elapsed() < every {
            continue;
        }
        last = Instant::now();
        let text = view.describe();
        match &view.bar {
            Some(bar) => bar.set_message(text),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "tapline: {text}");
            }
        }
    }
}

impl View {
    fn describe(&self) -> String {
        let records = self.records.lock().map(|r| r.clone()).unwrap_or_default();
        let total: u64 = records.values().sum();
        let secs = self.started.elapsed().as_secs_f64();
        let streams: Vec<String> = records.iter().map(|(s, n)| format!("{s} {n}")).collect();
        let activity = self
            .metrics
            .activity()
            .map_or_else(String::new, |a| format!(" | {a}"));
        format!(
            "{} | {} requests | {:.0} records/s | {secs:.1} s{activity}",
            if streams.is_empty() {
                "no records yet".to_string()
            } else {
                streams.join(" · ")
            },
            self.metrics.requests(),
            if secs > 0.0 { total as f64 / secs } else { 0.0 }
        )
    }
}
