//! Child stderr relayed to tapline's stderr with a `[name]` prefix and secrets masked; the tap's
//! Singer metric lines are read on the way for the run summary.

use std::io::{BufRead, Write};
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
    pub requests: AtomicU64,
}

/// Relays `from` line by line to `to`, prefixed and masked, adding metrics to `metrics`.
pub fn relay(
    from: impl BufRead,
    mut to: impl Write,
    prefix: &str,
    secrets: &[String],
    metrics: &Arc<Metrics>,
) {
    for line in from.split(b'\n') {
        let Ok(line) = line else { return };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\r');
        if let Some(n) = request_count(line) {
            metrics.requests.fetch_add(n, Ordering::Relaxed);
        }
        let _ = writeln!(to, "[{prefix}] {}", mask(line, secrets));
    }
}

/// The value of an `http_request_count` metric line, as singer-python and the Meltano SDK print
/// them: `INFO METRIC: {"type": "counter", "metric": "http_request_count", "value": 3, …}`.
fn request_count(line: &str) -> Option<u64> {
    let json = &line[line.find("METRIC: ")? + "METRIC: ".len()..];
    let metric: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
    (metric.get("metric")?.as_str()? == "http_request_count")
        .then(|| metric.get("value")?.as_u64())?
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
        let mut out = Vec::new();
        relay(
            input.as_bytes(),
            &mut out,
            "tap-x",
            &["s3cret".into()],
            &metrics,
        );
        assert_eq!(metrics.requests.load(Ordering::Relaxed), 5);
        let out = String::from_utf8(out).expect("utf-8");
        assert!(out.starts_with("[tap-x] starting\n"));
        assert!(out.ends_with("[tap-x] uses ***\n"));
    }
}
