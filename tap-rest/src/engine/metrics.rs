//! Singer metric lines on stderr, as singer-python and the Meltano SDK print them:
//! `INFO METRIC: {"type":"counter","metric":"http_request_count","value":N,"tags":{…}}`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

/// Request counts per endpoint; a timer line is printed for each request as it ends.
#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    /// Records one request of `url` (status `None`: it failed before a status); the timer's
    /// `url_path` tag (the path without its query) says which partition was being paged.
    pub fn request(&self, endpoint: &str, url: &str, took: Duration, status: Option<u16>) {
        if let Ok(mut c) = self.counts.lock() {
            *c.entry(endpoint.to_owned()).or_default() += 1;
        }
        let ok = status.is_some_and(|s| s < 400);
        let mut tags =
            json!({"endpoint": endpoint, "status": if ok { "succeeded" } else { "failed" }});
        if let Some(s) = status {
            tags["http_status_code"] = json!(s);
        }
        if let Some(path) = url_path(url) {
            tags["url_path"] = json!(path);
        }
        emit(
            &json!({"type": "timer", "metric": "http_request_duration", "value": took.as_secs_f64(), "tags": tags}),
        );
    }

    /// Prints the `http_request_count` counter of each endpoint.
    pub fn print_counts(&self) {
        let counts = self.counts.lock().map(|c| c.clone()).unwrap_or_default();
        for (endpoint, n) in counts {
            emit(
                &json!({"type": "counter", "metric": "http_request_count", "value": n, "tags": {"endpoint": endpoint}}),
            );
        }
    }

    /// Total requests made.
    pub fn total(&self) -> u64 {
        self.counts.lock().map(|c| c.values().sum()).unwrap_or(0)
    }
}

/// Prints a `record_count` counter.
pub fn record_count(stream: &str, context: &serde_json::Map<String, serde_json::Value>, n: u64) {
    emit(
        &json!({"type": "counter", "metric": "record_count", "value": n, "tags": {"stream": stream, "context": context}}),
    );
}

/// `https://host/a/b?x=1` → `/a/b`.
fn url_path(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let path = &rest[rest.find('/')?..];
    Some(path.split(['?', '#']).next().unwrap_or(path))
}

fn emit(value: &serde_json::Value) {
    eprintln!("INFO METRIC: {value}");
}

#[cfg(test)]
mod tests {
    use super::url_path;

    #[test]
    fn the_path_of_a_url() {
        assert_eq!(
            url_path("http://127.0.0.1:9/repos/o/r/commits?per_page=100&page=2"),
            Some("/repos/o/r/commits")
        );
        assert_eq!(url_path("https://h"), None);
    }
}
