//! Child stderr relayed to tapline's stderr with a `[name]` prefix and secrets masked; the tap's
//! Singer metric lines are read on the way for the run summary.

use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces every secret in `text` with `***`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// Metrics read from Singer `METRIC:` lines.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sum of `http_request_count` counters.
    pub counted: AtomicU64,
    /// `http_request_duration` timers, one per request.
    pub timed: AtomicU64,
}

impl Metrics {
    /// HTTP requests made: the counters when the tap prints them (at its end), else the timers
    /// seen so far (a tap that was stopped never prints its counters).
    pub fn requests(&self) -> u64 {
        self.counted
            .load(Ordering::Relaxed)
            .max(self.timed.load(Ordering::Relaxed))
    }
}

/// Relays `from` line by line to `to`, prefixed and masked, adding metrics to `metrics`.
/// Singer metric lines are read, not shown: the run's summary reports them.
pub fn relay(
    from: impl BufRead,
    to: &dyn Fn(&str),
    prefix: &str,
    secrets: &[String],
    metrics: &Arc<Metrics>,
) {
    for line in from.split(b'\n') {
        let Ok(line) = line else { return };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\r');
        match request_metric(line) {
            Some(Request::Counted(n)) => {
                metrics.counted.fetch_add(n, Ordering::Relaxed);
            }
            Some(Request::Timed) => {
                metrics.timed.fetch_add(1, Ordering::Relaxed);
            }
            None if line.contains("METRIC: {") => {}
            None => to(&format!("[{prefix}] {}", mask(line, secrets))),
        }
    }
}

enum Request {
    Counted(u64),
    Timed,
}

/// Reads a request metric line as singer-python and the Meltano SDK print them:
/// `INFO METRIC: {"type": "counter", "metric": "http_request_count", "value": 3, …}` or a
/// `http_request_duration` timer.
fn request_metric(line: &str) -> Option<Request> {
    let json = &line[line.find("METRIC: ")? + "METRIC: ".len()..];
    let metric: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
    match metric.get("metric")?.as_str()? {
        "http_request_count" => Some(Request::Counted(metric.get("value")?.as_u64()?)),
        "http_request_duration" => Some(Request::Timed),
        _ => None,
    }
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

    #[test]
    fn relays_with_prefix_and_counts_requests() {
        let input = "starting\nINFO METRIC: {\"type\":\"counter\",\"metric\":\"http_request_count\",\"value\":3,\"tags\":{}}\n\
                     2024 INFO METRIC: {\"type\": \"counter\", \"metric\": \"http_request_count\", \"value\": 2}\n\
                     INFO METRIC: {\"type\":\"counter\",\"metric\":\"record_count\",\"value\":9}\nuses s3cret\n";
        let metrics = Arc::new(Metrics::default());
        let out = std::sync::Mutex::new(String::new());
        let sink = |line: &str| out.lock().expect("lock").push_str(&format!("{line}\n"));
        relay(
            input.as_bytes(),
            &sink,
            "tap-x",
            &["s3cret".into()],
            &metrics,
        );
        assert_eq!(metrics.requests(), 5);
        let out = out.into_inner().expect("lock");
        assert!(!out.contains("METRIC"), "metric lines are not shown: {out}");
        assert!(out.starts_with("[tap-x] starting\n"));
        assert!(out.ends_with("[tap-x] uses ***\n"));
    }
}
