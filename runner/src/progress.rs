//! The live view of a run on stderr: a spinner line (records per stream, requests, rate,
//! elapsed) on a terminal, a plain line every few seconds otherwise, nothing when quiet. Relayed
//! child output goes through it so the two never garble each other. Stdout is never touched.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::forward::Counts;

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
    bar: Option<ProgressBar>,
    plain: Option<Duration>,
    started: Instant,
    last: Mutex<Instant>,
}

impl Progress {
    /// A spinner when stderr is a terminal, plain lines otherwise, nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
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
        Self {
            bar,
            plain: (!terminal && !quiet).then(plain_every),
            started: Instant::now(),
            last: Mutex::new(Instant::now()),
        }
    }

    /// Reports the counts so far; cheap enough to call for every line.
    pub fn update(&self, counts: &Counts, requests: u64) {
        let Some(every) = self.bar.as_ref().map(|_| REDRAW).or(self.plain) else {
            return;
        };
        if !counts.lines.is_multiple_of(64) {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.elapsed() < every {
            return;
        }
        *last = Instant::now();
        let text = self.describe(counts, requests);
        match &self.bar {
            Some(bar) => bar.set_message(text),
            None => eprintln!("tapline: {text}"),
        }
    }

    /// Prints a line of child output above the live line.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    /// Removes the live line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn describe(&self, counts: &Counts, requests: u64) -> String {
        let total: u64 = counts.records.values().sum();
        let secs = self.started.elapsed().as_secs_f64();
        let streams: Vec<String> = counts
            .records
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        format!(
            "{} | {requests} requests | {:.0} records/s | {secs:.1} s",
            if streams.is_empty() {
                "starting".to_string()
            } else {
                streams.join(" · ")
            },
            if secs > 0.0 { total as f64 / secs } else { 0.0 }
        )
    }
}
