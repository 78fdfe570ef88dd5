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

/// One sync like [`sync`], with a catalog.
pub async fn sync_catalog(
    engine: &Engine,
    config: Value,
    state: singer::State,
    catalog: Option<singer::Catalog>,
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
        catalog,
        state,
    };
    let sink = Sink::default();
    let summary = engine.sync(opts, sink.clone()).await?;
    Ok((sink.messages(), summary))
}

/// The catalog of `engine` with exactly `names` selected.
pub fn catalog(engine: &Engine, names: &[&str]) -> singer::Catalog {
    let mut c = engine.discover();
    assert!(c.select_only(names).is_empty(), "{names:?}");
    c
}

/// The value of each STATE among `messages`.
pub fn states(messages: &[Value]) -> Vec<&Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "STATE")
        .map(|m| &m["value"])
        .collect()
}

/// `field` of each record of `stream`.
pub fn field(messages: &[Value], stream: &str, field: &str) -> Vec<Value> {
    records(messages, stream)
        .iter()
        .map(|r| r[field].clone())
        .collect()
}

/// The replication-key value of the partition of `stream` with `context` in a state value.
pub fn bookmark(state: &Value, stream: &str, context: Value) -> Option<Value> {
    let state = singer::State::from_value(state.clone()).unwrap();
    state
        .partition(stream, context.as_object().unwrap())
        .and_then(|p| p.replication_key_value)
}

/// One request an invented API received.
#[derive(Debug, Clone)]
pub struct Req {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as sent (percent-encoded).
    pub path: String,
    /// The query as sent (percent-encoded), without `?`.
    pub raw_query: String,
    /// The query, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers.
    pub headers: axum::http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
    /// `http://HOST:PORT` of the server, for absolute URLs in answers.
    pub base: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Req {
    /// The decoded value of query parameter `name` (the first one).
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter as a number (0 when absent).
    pub fn n(&self, name: &str) -> usize {
        self.q(name).map_or(0, |v| v.parse().unwrap())
    }

    /// Every decoded value of query parameter `name`.
    pub fn q_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Header `name` as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The body as JSON (`Null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body).unwrap()
        }
    }

    /// A form body (`application/x-www-form-urlencoded`), decoded and sorted by name.
    pub fn form(&self) -> Vec<(String, String)> {
        let text = String::from_utf8(self.body.clone()).unwrap();
        let parsed = reqwest::Url::parse(&format!("http://x/?{text}")).unwrap();
        let mut pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        pairs
    }

    /// `METHOD /path?k=v&…` with the query decoded and sorted by name: what a test compares.
    pub fn line(&self) -> String {
        let mut q = self.query.clone();
        q.sort();
        let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, query.join("&"))
        }
    }
}

/// An answer of an invented API.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
    /// Wait this long before answering.
    pub delay: std::time::Duration,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: Value) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: std::time::Duration::ZERO,
        }
    }

    /// `status` with a text body.
    pub fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: body.to_owned(),
            delay: std::time::Duration::ZERO,
        }
    }

    /// This answer with one more header.
    pub fn header(mut self, name: &str, value: impl ToString) -> Reply {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }

    /// This answer, given after `delay`.
    pub fn after(mut self, delay: std::time::Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;
type Log = Arc<Mutex<Vec<Req>>>;

/// An invented API: a function from request to answer, served on port 0, that logs every
/// request (before answering it).
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: Log,
}

impl Api {
    /// Serves `handler`.
    pub async fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Api {
        let log: Log = Arc::default();
        let handler: Handler = Arc::new(handler);
        let app = axum::Router::new()
            .fallback(answer)
            .with_state((log.clone(), handler));
        Api {
            url: serve(app).await,
            log,
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    /// [`Req::line`] of every request so far.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Req::line).collect()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }

    /// Waits (up to 20 s) until `done` holds for the requests so far.
    pub async fn wait_for(&self, done: impl Fn(&[Req]) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !done(&self.log.lock().unwrap()) {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out; requests: {:?}",
                self.lines()
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

async fn answer(
    axum::extract::State((log, handler)): axum::extract::State<(Log, Handler)>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let raw_query = uri.query().unwrap_or_default().to_owned();
    let parsed = reqwest::Url::parse(&format!("http://x/?{raw_query}")).unwrap();
    let req = Req {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        raw_query,
        headers,
        body: body.to_vec(),
        base: format!("http://{host}"),
        at: std::time::Instant::now(),
    };
    log.lock().unwrap().push(req.clone());
    let reply = handler(&req);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut resp = (
        axum::http::StatusCode::from_u16(reply.status).unwrap(),
        reply.body,
    )
        .into_response();
    for (k, v) in reply.headers {
        resp.headers_mut().append(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}

/// A definitions file, its schemas and a config written into a temporary folder, to run the
/// `tap-rest` binary on.
pub struct Files {
    /// The folder.
    pub dir: tempfile::TempDir,
}

impl Files {
    /// Writes `api.toml` (the definitions), `schemas/<connector>/<stream>.json` and
    /// `config.json`.
    pub fn new(defs: &str, schemas: &[(&str, Value)], config: &Value) -> Files {
        let dir = tempfile::tempdir().unwrap();
        let name = Definitions::parse(defs, "api.toml")
            .unwrap_or_else(|e| panic!("{e}"))
            .connector
            .name;
        std::fs::write(dir.path().join("api.toml"), defs).unwrap();
        let folder = dir.path().join("schemas").join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for (stream, schema) in schemas {
            std::fs::write(folder.join(format!("{stream}.json")), schema.to_string()).unwrap();
        }
        std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
        Files { dir }
    }

    /// The path of `name` in the folder.
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `name` in the folder.
    pub fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The `tap-rest` command on these files, plus `extra` arguments.
    pub fn command(&self, extra: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tap-rest"));
        c.arg("--definitions")
            .arg(self.path("api.toml"))
            .arg("--config")
            .arg(self.path("config.json"))
            .args(extra)
            .env("TAPLINE_LOG", "info");
        c
    }

    /// Runs `tap-rest` on these files (off the async runtime): (exit code, stdout, stderr).
    pub async fn run(&self, extra: &[&str]) -> (i32, String, String) {
        let mut c = self.command(extra);
        let out = tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

/// The Singer messages of a tap's stdout.
pub fn parse_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A JSON Schema of an object whose properties are `props` (name → type).
pub fn schema(props: &[(&str, &str)]) -> Value {
    let p: serde_json::Map<String, Value> = props
        .iter()
        .map(|(k, t)| {
            let s = match *t {
                "date-time" => {
                    serde_json::json!({"type": ["string", "null"], "format": "date-time"})
                }
                "any" => serde_json::json!({}),
                t => serde_json::json!({"type": [t, "null"]}),
            };
            ((*k).to_owned(), s)
        })
        .collect();
    serde_json::json!({"type": "object", "properties": p})
}
