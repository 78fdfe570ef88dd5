//! Shared helpers: a database and a temporary folder with a config, a command that runs the
//! target with it, and checks of its output.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::{Value, json};
use tempfile::TempDir;

pub use crate::cluster::Database;
pub use crate::corpus::{record, schema, state};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_target-postgres");

/// A fresh database and a temporary folder holding `config.json` for it (schema `tap`).
pub struct Setup {
    pub dir: TempDir,
    pub db: Database,
}

/// A fresh database with the default settings.
pub fn setup() -> Setup {
    setup_with(json!({}))
}

/// Like [`setup`], with extra config settings.
pub fn setup_with(settings: Value) -> Setup {
    let s = Setup {
        dir: tempfile::tempdir().unwrap(),
        db: crate::cluster::database(),
    };
    s.write_config(settings);
    s
}

impl Setup {
    /// (Re)writes `config.json`: the database's connection settings, schema `tap`, `settings`.
    pub fn write_config(&self, settings: Value) {
        let mut config = self.db.settings();
        config["schema"] = json!("tap");
        for (k, v) in settings.as_object().unwrap() {
            config[k] = v.clone();
        }
        std::fs::write(self.config_path(), config.to_string()).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.json")
    }

    /// A command that runs the target with this config.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config").arg(self.config_path());
        cmd.env_remove("TAPLINE_LOG");
        cmd
    }

    /// Rows of a query as JSON objects.
    pub fn rows(&self, sql: &str) -> Value {
        self.db.rows(sql)
    }

    /// One column of a query's rows.
    pub fn column(&self, sql: &str) -> Vec<Value> {
        self.rows(sql)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().values().next().cloned().unwrap())
            .collect()
    }

    /// Tables of schema `tap`, sorted.
    pub fn tables(&self) -> Vec<String> {
        self.column(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'tap' ORDER BY 1",
        )
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
    }

    /// `(name, type, key position)` of each column of a table of schema `tap`.
    pub fn columns(&self, table: &str) -> Vec<(String, String, i64)> {
        let rows = self.rows(&format!(
            "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
                coalesce(array_position(i.indkey::int2[], a.attnum) + 1, 0) AS pk
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
             WHERE n.nspname = 'tap' AND c.relname = '{table}' AND a.attnum > 0
               AND NOT a.attisdropped ORDER BY a.attnum"
        ));
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["type"].as_str().unwrap().to_string(),
                    r["pk"].as_i64().unwrap(),
                )
            })
            .collect()
    }
}

/// The text of a fixture of target-sqlite's tests (the fixtures are shared, not copied).
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target-sqlite/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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

/// Runs the command, asserts success.
pub fn run_ok(cmd: &mut Command, input: impl Into<Vec<u8>>) -> Output {
    let out = run(cmd, input);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout as JSON values, one per line.
pub fn stdout_json(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line {l:?}: {e}")))
        .collect()
}

/// Asserts exit code 1 and exactly one error line, the last of stderr, starting with
/// `target-postgres: error: {start}`.
pub fn assert_error_starting(out: &Output, start: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "stderr:\n{err}");
    assert!(
        errors[0].starts_with(&format!("target-postgres: error: {start}")),
        "{}",
        errors[0]
    );
    assert_eq!(err.lines().last(), Some(errors[0]), "stderr:\n{err}");
}

/// Lines of stderr that contain `needle`.
pub fn stderr_lines_with(out: &Output, needle: &str) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}
