//! Shared helpers: a temporary folder with a config, Singer message builders, database queries
//! and checks of the target's output.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_target-sqlite");

/// A temporary folder with `config.json` (database `out.db`, default settings) and a command
/// that runs the target with it.
pub fn setup() -> (TempDir, Command) {
    setup_with(json!({}))
}

/// Like [`setup`], with extra config settings merged over `{"database": …}`.
pub fn setup_with(settings: Value) -> (TempDir, Command) {
    let dir = tempfile::tempdir().unwrap();
    write_config(&dir, settings);
    let cmd = cmd(&dir);
    (dir, cmd)
}

/// (Re)writes the folder's `config.json`.
pub fn write_config(dir: &TempDir, settings: Value) {
    let mut config = json!({"database": db_path(dir)});
    for (k, v) in settings.as_object().unwrap() {
        config[k] = v.clone();
    }
    std::fs::write(config_path(dir), config.to_string()).unwrap();
}

/// Another command for the same folder, e.g. for a second run.
pub fn cmd(dir: &TempDir) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config").arg(config_path(dir));
    cmd.env_remove("TAPLINE_LOG");
    cmd
}

pub fn config_path(dir: &TempDir) -> PathBuf {
    dir.path().join("config.json")
}

pub fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("out.db")
}

/// The text of a fixture in `tests/fixtures/`.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn schema(stream: &str, properties: Value, keys: &[&str]) -> String {
    json!({"type": "SCHEMA", "stream": stream,
        "schema": {"type": "object", "properties": properties}, "key_properties": keys})
    .to_string()
}

pub fn record(stream: &str, record: Value) -> String {
    json!({"type": "RECORD", "stream": stream, "record": record}).to_string()
}

pub fn state(value: Value) -> String {
    json!({"type": "STATE", "value": value}).to_string()
}

/// Messages as JSONL, each line ended by a newline.
pub fn lines<S: AsRef<str>>(messages: &[S]) -> String {
    messages
        .iter()
        .map(|m| format!("{}\n", m.as_ref()))
        .collect()
}

/// Runs the command with `input` on stdin.
pub fn run(cmd: &mut Command, input: impl Into<Vec<u8>>) -> Output {
    cmd.write_stdin(input).output().unwrap()
}

/// Runs the command, asserts success, returns stderr.
pub fn run_ok(cmd: &mut Command, input: impl Into<Vec<u8>>) -> Output {
    let out = run(cmd, input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    no_panic(&out);
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Stdout as JSON values, one per line; fails if any line is not JSON.
pub fn stdout_json(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line {l:?}: {e}")))
        .collect()
}

pub fn no_panic(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "stderr:\n{err}");
}

/// Asserts the run failed with exit code 1 and exactly one error line, the last line of
/// stderr, which reads `target-sqlite: error: {message}`.
pub fn assert_error(out: &Output, message: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{err}");
    no_panic(out);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(
        errors,
        [format!("target-sqlite: error: {message}")],
        "stderr:\n{err}"
    );
    assert_eq!(err.lines().last(), Some(errors[0]), "stderr:\n{err}");
}

/// Like [`assert_error`], for a message that starts with `start` (case `name` of a corpus).
pub fn assert_error_starting(out: &Output, start: &str, name: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{name}: stderr:\n{err}");
    no_panic(out);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{name}: stderr:\n{err}");
    assert!(
        errors[0].starts_with(&format!("target-sqlite: error: {start}")),
        "{name}: {}",
        errors[0]
    );
    assert_eq!(
        err.lines().last(),
        Some(errors[0]),
        "{name}: stderr:\n{err}"
    );
}

/// Lines of stderr that contain `needle`.
pub fn stderr_lines_with(out: &Output, needle: &str) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

/// Opens the database read-only (never creates it).
pub fn open_db(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Every row of a query, as a JSON array of arrays (NULL → null, blobs → their length).
pub fn rows(db: &Path, sql: &str) -> Value {
    let conn = open_db(db);
    query(&conn, sql)
}

pub fn query(conn: &Connection, sql: &str) -> Value {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let rows: Vec<Value> = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| r.get_ref(i).map(to_json))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    Value::Array(rows)
}

fn to_json(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(f) => json!(f),
        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => json!(b.len()),
    }
}

/// The tables of the database, sorted.
pub fn tables(db: &Path) -> Vec<String> {
    let Value::Array(rows) = rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    ) else {
        unreachable!()
    };
    rows.iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect()
}

/// `(name, declared type, pk position)` of each column of a table.
pub fn columns(db: &Path, table: &str) -> Vec<(String, String, i64)> {
    let conn = open_db(db);
    let mut stmt = conn
        .prepare("SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid")
        .unwrap();
    stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Column names of a table, without the `_sdc_*` metadata columns.
pub fn data_columns(db: &Path, table: &str) -> Vec<String> {
    columns(db, table)
        .into_iter()
        .map(|c| c.0)
        .filter(|c| !c.starts_with("_sdc_"))
        .collect()
}

/// Lines 1–5 of the shared bad-input corpus: see `corpus::prefix`.
pub fn users_prefix() -> Vec<u8> {
    crate::corpus::prefix()
}

/// Runs the `users_prefix` followed by `tail` (line 6 onwards) with `batch_size_rows: 1`
/// and extra `settings`.
pub fn run_after_prefix(settings: Value, tail: &[u8]) -> (TempDir, Output) {
    let mut all = json!({"batch_size_rows": 1});
    for (k, v) in settings.as_object().unwrap() {
        all[k] = v.clone();
    }
    let (dir, mut cmd) = setup_with(all);
    let mut input = users_prefix();
    input.extend_from_slice(tail);
    let out = run(&mut cmd, input);
    (dir, out)
}

/// The database holds exactly what the echoed STATE `{"n": 2}` covers: rows 1 and 2.
pub fn assert_only_first_state_committed(dir: &TempDir, out: &Output) {
    assert_eq!(stdout_json(out), [json!({"n": 2})], "stdout");
    assert_eq!(
        rows(&db_path(dir), "SELECT id, name FROM users ORDER BY id"),
        json!([[1, "ann"], [2, "bob"]])
    );
}

/// The target started with piped stdin and stdout, read line by line on a thread, for tests
/// that need to watch it while it runs.
pub struct Running {
    pub child: std::process::Child,
    pub stdin: Option<std::process::ChildStdin>,
    pub stdout: std::sync::mpsc::Receiver<String>,
}

impl Running {
    /// Starts the target with the folder's config; stderr goes to `stderr.log` in the folder.
    pub fn start(dir: &TempDir) -> Self {
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let mut child = std::process::Command::new(BIN)
            .arg("--config")
            .arg(config_path(dir))
            .env_remove("TAPLINE_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            stdin,
            stdout: rx,
        }
    }

    /// Writes to the target's stdin and flushes.
    pub fn write(&mut self, text: &str) {
        use std::io::Write as _;
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// The next stdout line, or `None` if none comes within `timeout` (or stdout closed).
    pub fn line_within(&self, timeout: std::time::Duration) -> Option<String> {
        self.stdout.recv_timeout(timeout).ok()
    }

    /// Closes stdin, waits for the exit, returns the exit code and the remaining stdout lines.
    pub fn finish(mut self) -> (Option<i32>, Vec<String>) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        (status.code(), self.stdout.iter().collect())
    }
}
