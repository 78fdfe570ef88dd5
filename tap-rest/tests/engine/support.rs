//! Serving an axum router on port 0 and running the engine on definitions text.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tap_rest::Engine;
use tap_rest::defs::Definitions;
use tap_rest::engine::{Summary, SyncOptions};

/// Serves `app` on 127.0.0.1:0; returns `http://127.0.0.1:PORT`.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A `Write` whose bytes the test reads afterwards.
#[derive(Clone, Default)]
pub struct Sink(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    /// The Singer messages written so far.
    pub fn messages(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// An engine from definitions text and (stream, schema) pairs.
pub fn engine(defs: &str, schemas: &[(&str, Value)]) -> Engine {
    let defs = Definitions::parse(defs, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let schemas: BTreeMap<String, Value> = schemas
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Engine::new(defs, schemas).unwrap()
}

/// One sync of `engine` with `config` (checked like a config file) from `state`; the
/// messages and the summary.
pub async fn sync(
    engine: &Engine,
    config: Value,
    state: singer::State,
) -> Result<(Vec<Value>, Summary), tap_rest::engine::Error> {
    let config = tap_rest::config::check(&engine.defs, &config).unwrap_or_else(|e| panic!("{e}"));
    let mut http = config.http_options(&engine.defs);
    http.backoff_base = std::time::Duration::from_millis(1);
    let opts = SyncOptions {
        http,
        settings: config.values.clone(),
        secrets: config.secrets.clone(),
        start_date: config.start_date(),
        lookback: config.lookback(),
        max_concurrency: config.max_concurrency(),
        catalog: None,
        state,
    };
    let sink = Sink::default();
    let summary = engine.sync(opts, sink.clone()).await?;
    Ok((sink.messages(), summary))
}

/// Records of `stream` among `messages`.
pub fn records<'m>(messages: &'m [Value], stream: &str) -> Vec<&'m Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}
