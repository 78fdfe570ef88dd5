//! The shared SIGKILL crash/resume test (`target-core/testsupport/crash.rs`) on SQLite, with
//! the default config (only the database is set).

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};

use rusqlite::Connection;
use tempfile::TempDir;

use crate::crash_test::{self, Keys, Subject};
use crate::support::*;

struct Sqlite(TempDir);

impl Subject for Sqlite {
    fn start(&self, log: &str) -> Child {
        Command::new(BIN)
            .arg("--config")
            .arg(config_path(&self.0))
            .env_remove("TAPLINE_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.0.path().join(log)).unwrap())
            .spawn()
            .unwrap()
    }

    fn log(&self, log: &str) -> String {
        std::fs::read_to_string(self.0.path().join(log)).unwrap()
    }

    fn check_integrity(&self) {
        let conn = Connection::open(db_path(&self.0)).unwrap();
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
    }

    fn commits(&self) -> (BTreeSet<String>, u64) {
        let conn = Connection::open(db_path(&self.0)).unwrap();
        let mut stmt = conn.prepare("SELECT sha FROM commits").unwrap();
        let shas: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let n = shas.len() as u64;
        (shas.into_iter().collect(), n)
    }
}

#[test]
fn sigkill_mid_load_keeps_exactly_what_the_last_state_covers() {
    let (dir, _) = setup();
    crash_test::sigkill_mid_load_keeps_exactly_what_the_last_state_covers(&Sqlite(dir), Keys::Sha);
}

#[test]
fn sigkill_mid_load_of_a_keyless_stream_resumes_without_duplicates() {
    let (dir, _) = setup();
    crash_test::sigkill_mid_load_keeps_exactly_what_the_last_state_covers(&Sqlite(dir), Keys::None);
}
