//! Child stderr relayed to tapline's stderr with a `[name]` prefix and secrets masked; the tap's
//! Singer metric lines and its retry and wait warnings are read on the way for the run summary
//! and the progress line, and each program's last error line is kept as the run's cause.

use std::io::BufRead;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Replaces every secret in `text` with `***`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// Metrics read from Singer `METRIC:` lines and from the tap's warnings.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sum of `http_request_count` counters.
    pub counted: AtomicU64,
    /// `http_request_duration` timers, one per request.
    pub timed: AtomicU64,
    /// Requests retried after a 5xx, a timeout or a reset.
    pub retries: AtomicU64,
    /// Waits for a rate limit.
    pub waits: AtomicU64,
    /// Responses `304 Not Modified`.
    pub not_modified: AtomicU64,
    /// Responses `404 Not Found`.
    pub not_found: AtomicU64,
    /// What the tap is doing, as the last line that said so.
    activity: Mutex<Option<String>>,
}

impl Metrics {
    /// HTTP requests made: the counters when the tap prints them (at its end), else the timers
    /// seen so far (a tap that was stopped never prints its counters).
    pub fn requests(&self) -> u64 {
        self.counted
            .load(Ordering::Relaxed)
            .max(self.timed.load(Ordering::Relaxed))
    }

    /// What the tap is doing now, e.g. `GET /repos/{repository}/commits (200)` or a wait with
    /// its end time.
    pub fn activity(&self) -> Option<String> {
        self.activity.lock().ok().and_then(|a| a.clone())
    }

    fn set_activity(&self, text: String) {
        if let Ok(mut a) = self.activity.lock() {
            *a = Some(text);
        }
    }
}

/// A program's last error line (else its last line): the cause a failed run reports.
#[derive(Debug, Default)]
pub struct Tail {
    error: Mutex<Option<String>>,
    last: Mutex<Option<String>>,
}

impl Tail {
    /// The last error line, else the last line, without the relay's prefix.
    pub fn cause(&self) -> Option<String> {
        let error = self.error.lock().ok().and_then(|e| e.clone());
        error.or_else(|| self.last.lock().ok().and_then(|l| l.clone()))
    }

    fn keep(&self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let slot = if is_error(line) {
            &self.error
        } else {
            &self.last
        };
        if let Ok(mut s) = slot.lock() {
            *s = Some(line.to_string());
        }
    }
}

/// Words that mark a line as an error, as Rust (`tracing`, `anyhow`) and Python (`logging`)
/// programs print them.
const ERROR_MARKS: [&str; 5] = ["error:", "ERROR", "CRITICAL", "Traceback", "Error:"];

fn is_error(line: &str) -> bool {
    ERROR_MARKS.iter().any(|m| line.contains(m))
}

/// Relays `from` line by line to `to`, prefixed and masked, adding metrics to `metrics`.
/// Singer metric lines are read, not shown: the run's summary reports them.
pub fn relay(
    from: impl BufRead,
    to: &dyn Fn(&str),
    prefix: &str,
    secrets: &[String],
    metrics: &Metrics,
) {
    relay_keeping(from, to, prefix, secrets, metrics, &Tail::default());
}

/// [`relay`], keeping the last error line in `tail`.
pub fn relay_keeping(
    from: impl BufRead,
    to: &dyn Fn(&str),
    prefix: &str,
    secrets: &[String],
    metrics: &Metrics,
    tail: &Tail,
) {
    for line in from.split(b'\n') {
        let Ok(line) = line else { return };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\r');
        match request_metric(line) {
            Some(Request::Counted(n)) => {
                metrics.counted.fetch_add(n, Ordering::Relaxed);
            }
            Some(Request::Timed { endpoint, status }) => {
                metrics.timed.fetch_add(1, Ordering::Relaxed);
                let counter = match status {
                    Some(304) => Some(&metrics.not_modified),
                    Some(404) => Some(&metrics.not_found),
                    _ => None,
                };
                if let Some(c) = counter {
                    c.fetch_add(1, Ordering::Relaxed);
                }
                let status = status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
                metrics.set_activity(format!("GET {} ({status})", mask(&endpoint, secrets)));
            }
            None if line.contains("METRIC: {") => {}
            None => {
                let masked = mask(line, secrets);
                if let Some(event) = warning(&masked) {
                    let (counter, text) = match event {
                        Warning::Retry(text) => (&metrics.retries, text),
                        Warning::Wait(text) => (&metrics.waits, text),
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    metrics.set_activity(text);
                }
                tail.keep(&masked);
                to(&format!("[{prefix}] {masked}"));
            }
        }
    }
}

enum Request {
    Counted(u64),
    Timed {
        endpoint: String,
        status: Option<u64>,
    },
}

/// Reads a request metric line as singer-python and the Meltano SDK print them:
/// `INFO METRIC: {"type": "counter", "metric": "http_request_count", "value": 3, …}` or a
/// `http_request_duration` timer.
fn request_metric(line: &str) -> Option<Request> {
    let json = &line[line.find("METRIC: ")? + "METRIC: ".len()..];
    let metric: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
    match metric.get("metric")?.as_str()? {
        "http_request_count" => Some(Request::Counted(metric.get("value")?.as_u64()?)),
        "http_request_duration" => {
            let tags = metric.get("tags");
            let tag = |k: &str| tags.and_then(|t| t.get(k));
            Some(Request::Timed {
                // The path names the partition; the endpoint template is what others print.
                endpoint: tag("url_path")
                    .or_else(|| tag("endpoint"))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("a request")
                    .to_string(),
                status: tag("http_status_code").and_then(serde_json::Value::as_u64),
            })
        }
        _ => None,
    }
}

enum Warning {
    Retry(String),
    Wait(String),
}

/// How the tap says it retries or waits, each with a reading of the line: a retry's cause, or a
/// wait's seconds turned into the time it ends.
const WAITS: [(&str, &str); 2] = [("; waiting ", "s"), ("pausing ", "s until")];

fn warning(line: &str) -> Option<Warning> {
    if line.contains("; retry ") {
        return Some(Warning::Retry(format!("retrying: {}", message(line))));
    }
    WAITS.iter().find_map(|(before, after)| {
        let start = line.find(before)? + before.len();
        let rest = &line[start..];
        let seconds: f64 = rest[..rest.find(after)?].parse().ok()?;
        let ends = SystemTime::now() + Duration::from_secs_f64(seconds.max(0.0));
        Some(Warning::Wait(format!(
            "waiting for the rate limit to reset until {} ({seconds:.0} s)",
            clock(ends)
        )))
    })
}

/// A log line without its timestamp and level, as far as they can be told.
fn message(line: &str) -> &str {
    ["WARN ", "WARNING ", "INFO "]
        .iter()
        .find_map(|level| line.find(level).map(|at| &line[at + level.len()..]))
        .unwrap_or(line)
        .trim()
}

/// `HH:MM:SSZ` of a time.
fn clock(at: SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    format!("{:02}:{:02}:{:02}Z", t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_secret() {
        assert_eq!(
            mask(
                "token=abc and abc again, pw",
                &["abc".into(), "pw".into(), String::new()]
            ),
            "token=*** and *** again, ***"
        );
    }

    fn relayed(input: &str) -> (String, Metrics, Tail) {
        let metrics = Metrics::default();
        let tail = Tail::default();
        let out = std::sync::Mutex::new(String::new());
        let sink = |line: &str| out.lock().expect("lock").push_str(&format!("{line}\n"));
        relay_keeping(
            input.as_bytes(),
            &sink,
            "tap-x",
            &["s3cret".into()],
            &metrics,
            &tail,
        );
        (out.into_inner().expect("lock"), metrics, tail)
    }

    #[test]
    fn relays_with_prefix_and_counts_requests() {
        let input = "starting\nINFO METRIC: {\"type\":\"counter\",\"metric\":\"http_request_count\",\"value\":3,\"tags\":{}}\n\
                     2024 INFO METRIC: {\"type\": \"counter\", \"metric\": \"http_request_count\", \"value\": 2}\n\
                     INFO METRIC: {\"type\":\"counter\",\"metric\":\"record_count\",\"value\":9}\nuses s3cret\n";
        let (out, metrics, _) = relayed(input);
        assert_eq!(metrics.requests(), 5);
        assert!(!out.contains("METRIC"), "metric lines are not shown: {out}");
        assert!(out.starts_with("[tap-x] starting\n"));
        assert!(out.ends_with("[tap-x] uses ***\n"));
    }

    #[test]
    fn counts_304s_404s_retries_and_waits_and_says_what_happens() {
        let timer = |status: u16| {
            format!(
                "INFO METRIC: {{\"type\":\"timer\",\"metric\":\"http_request_duration\",\"value\":0.1,\"tags\":{{\"endpoint\":\"/repos/{{repository}}/commits\",\"http_status_code\":{status}}}}}\n"
            )
        };
        let input = [
            timer(200),
            timer(304),
            timer(404),
            timer(404),
            "2026-01-01T00:00:00Z  WARN 502 Bad Gateway on http://x/a; retry 1/5 in 0.10s\n".into(),
        ]
        .concat();
        let (_, metrics, _) = relayed(&input);
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        assert_eq!(
            (
                n(&metrics.not_modified),
                n(&metrics.not_found),
                n(&metrics.retries)
            ),
            (1, 2, 1)
        );
        assert_eq!(
            metrics.activity().as_deref(),
            Some("retrying: 502 Bad Gateway on http://x/a; retry 1/5 in 0.10s")
        );
        let (_, metrics, _) = relayed(&timer(200));
        assert_eq!(
            metrics.activity().as_deref(),
            Some("GET /repos/{repository}/commits (200)")
        );
        let (_, metrics, _) = relayed(&timer(200).replace(
            "\"http_status_code\"",
            "\"url_path\":\"/repos/octo/app/commits\",\"http_status_code\"",
        ));
        assert_eq!(
            metrics.activity().as_deref(),
            Some("GET /repos/octo/app/commits (200)"),
            "the path names the partition"
        );
        let (_, metrics, _) = relayed(
            "WARN 0 of 60 requests left (buffer 3); pausing 3598.0s until the rate limit resets\n",
        );
        assert_eq!(n(&metrics.waits), 1);
        let activity = metrics.activity().unwrap_or_default();
        assert!(
            activity.starts_with("waiting for the rate limit to reset until ")
                && activity.ends_with("Z (3598 s)"),
            "{activity}"
        );
    }

    #[test]
    fn the_cause_is_the_last_error_line_else_the_last_line() {
        let (_, _, tail) = relayed("a\ntap-x: error: HTTP 401 for s3cret\nbye\n");
        assert_eq!(
            tail.cause().as_deref(),
            Some("tap-x: error: HTTP 401 for ***")
        );
        let (_, _, tail) = relayed("a\nlast words\n\n");
        assert_eq!(tail.cause().as_deref(), Some("last words"));
    }
}
