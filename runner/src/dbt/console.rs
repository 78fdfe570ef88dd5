//! dbt's output made to fit on a screen. dbt runs with `DBT_LOG_FORMAT=json`; each event is
//! written in full (as dbt would print it) to a log file, counted towards one line of models
//! and tests, and shown on stderr only when it matters: warnings, errors, and after a failed
//! run dbt's closing account of its failures. `verbose` shows every line as dbt prints it.

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use serde_json::Value;

/// Events that never reach the screen unless verbose: a node starting, blank lines.
const QUIET_EVENTS: [&str; 2] = ["LogStartLine", "Formatting"];

/// One structured dbt log line (the fields tapline reads).
#[derive(Debug, Deserialize)]
struct Event {
    info: Info,
    #[serde(default)]
    data: Value,
}

#[derive(Debug, Deserialize)]
struct Info {
    name: String,
    level: String,
    msg: String,
    #[serde(default)]
    ts: String,
}

/// What happened to the nodes of one dbt command.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Models, seeds and snapshots built.
    pub built: u64,
    /// Tests that passed.
    pub passed: u64,
    /// Nodes that warned.
    pub warned: u64,
    /// Nodes that failed or errored.
    pub failed: u64,
    /// Nodes skipped because something upstream failed.
    pub skipped: u64,
}

/// The screen and log file of one dbt command.
pub struct Console {
    verbose: bool,
    log: BufWriter<File>,
    log_path: PathBuf,
    bar: Option<ProgressBar>,
    tally: Tally,
    total: Option<u64>,
    /// After a failed run's closing summary: every line is shown.
    closing: bool,
}

impl Console {
    /// Appends the log to `log_path`; a bar on a terminal unless
    /// `quiet` or `verbose`.
    pub fn create(log_path: &Path, verbose: bool, quiet: bool) -> std::io::Result<Self> {
        if let Some(dir) = log_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let bar = (!verbose && !quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} dbt {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Ok(Self {
            verbose,
            log: BufWriter::new(File::options().create(true).append(true).open(log_path)?),
            log_path: log_path.to_path_buf(),
            bar,
            tally: Tally::default(),
            total: None,
            closing: false,
        })
    }

    /// Takes one line dbt printed (secrets already masked).
    pub fn line(&mut self, raw: &str) {
        let Ok(event) = serde_json::from_str::<Event>(raw) else {
            // Not an event (a Python traceback, a crash): always worth seeing.
            let _ = writeln!(self.log, "{raw}");
            self.show(raw);
            return;
        };
        let text = strip_ansi(&event.info.msg);
        let time = event.info.ts.get(11..19).unwrap_or("");
        let _ = writeln!(self.log, "{time}  {text}");
        if self.count(&event) {
            self.draw();
        }
        let name = event.info.name.as_str();
        if name == "EndOfRunSummary" && !text.starts_with("Completed successfully") {
            self.closing = true;
        }
        let important = matches!(event.info.level.as_str(), "warn" | "error");
        let shown = self.verbose
            || important
            || (self.closing && !QUIET_EVENTS.contains(&name) && !text.trim().is_empty());
        if shown {
            self.show(&text);
        }
    }

    /// Counts a node's result; whether it was one.
    fn count(&mut self, event: &Event) -> bool {
        let name = event.info.name.as_str();
        let is_result =
            (name.starts_with("Log") && name.ends_with("Result")) || name == "SkippingDetails";
        if !is_result {
            return false;
        }
        if let Some(total) = event.data.get("total").and_then(Value::as_u64) {
            self.total = Some(total);
        }
        let tally = &mut self.tally;
        match (name, event.info.level.as_str()) {
            ("SkippingDetails", _) => tally.skipped += 1,
            (_, "error") => tally.failed += 1,
            (_, "warn") => tally.warned += 1,
            ("LogTestResult", _) => tally.passed += 1,
            _ => tally.built += 1,
        }
        true
    }

    fn draw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(self.tally_line());
        }
    }

    fn show(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// `13 models built, 84 tests passed, 0 failed, 0 skipped (of 97)`.
    fn tally_line(&self) -> String {
        let t = &self.tally;
        let mut line = format!(
            "{} built, {} tests passed, {} failed, {} skipped",
            t.built, t.passed, t.failed, t.skipped
        );
        if t.warned > 0 {
            line.push_str(&format!(", {} warned", t.warned));
        }
        if let Some(total) = self.total {
            line.push_str(&format!(" (of {total})"));
        }
        line
    }

    /// Ends the command: the one line of what it did and where its whole log is.
    pub fn finish(mut self, command: &str, ok: bool, seconds: f64) -> Tally {
        let _ = self.log.flush();
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        eprintln!(
            "dbt {command}: {} in {seconds:.1} s{}; log: {}",
            self.tally_line(),
            if ok { "" } else { ", FAILED" },
            self.log_path.display()
        );
        self.tally
    }
}

/// `text` without terminal colour codes (dbt colours some results even when told not to).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, level: &str, msg: &str, data: &str) -> String {
        format!(
            r#"{{"info": {{"name": "{name}", "level": "{level}", "msg": "{msg}", "ts": "2026-12-01T16:33:11.123Z"}}, "data": {data}}}"#
        )
    }

    #[test]
    fn results_are_counted_and_the_log_keeps_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/dbt.log");
        let mut console = Console::create(&log, false, true).unwrap();
        for line in [
            event(
                "LogStartLine",
                "info",
                "1 of 4 START model",
                r#"{"total": 4}"#,
            ),
            event(
                "LogModelResult",
                "info",
                "1 of 4 OK created model",
                r#"{"total": 4}"#,
            ),
            event("LogTestResult", "info", "2 of 4 PASS t1", r#"{"total": 4}"#),
            event(
                "LogTestResult",
                "error",
                "3 of 4 FAIL 3 t2",
                r#"{"total": 4}"#,
            ),
            event(
                "SkippingDetails",
                "info",
                "4 of 4 SKIP m2",
                r#"{"total": 4}"#,
            ),
            "Traceback (most recent call last):".to_string(),
        ] {
            console.line(&line);
        }
        let tally = console.finish("build", false, 1.0);
        assert_eq!(
            tally,
            Tally {
                built: 1,
                passed: 1,
                warned: 0,
                failed: 1,
                skipped: 1
            }
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 6, "{text}");
        assert!(text.starts_with("16:33:11  1 of 4 START model\n"), "{text}");
    }

    #[test]
    fn colour_codes_are_removed() {
        assert_eq!(
            strip_ansi("[\u{1b}[32mOK\u{1b}[0m in 0.4s]"),
            "[OK in 0.4s]"
        );
    }
}
