//! The shared SIGKILL crash/resume test (`target-core/testsupport/crash.rs`) on PostgreSQL,
//! with the default settings.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};

use crate::crash_test::{self, Keys, Subject};
use crate::support::*;

struct Postgres(Setup);

impl Subject for Postgres {
    fn start(&self, log: &str) -> Child {
        Command::new(BIN)
            .arg("--config")
            .arg(self.0.config_path())
            .env_remove("TAPLINE_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.0.dir.path().join(log)).unwrap())
            .spawn()
            .unwrap()
    }

    fn log(&self, log: &str) -> String {
        std::fs::read_to_string(self.0.dir.path().join(log)).unwrap()
    }

    fn check_integrity(&self) {
        // A killed client leaves no transaction open once the server notices; wait for that,
        // then the table must be readable and its primary key index consistent with it.
        let mut client = self.0.db.client();
        for _ in 0..100 {
            let open: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND pid <> pg_backend_pid()",
                    &[],
                )
                .unwrap()
                .get(0);
            if open == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let (rows, distinct): (i64, i64) = {
            let r = client
                .query_one("SELECT count(*), count(DISTINCT sha) FROM tap.commits", &[])
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert_eq!(rows, distinct, "duplicate keys");
    }

    fn commits(&self) -> (BTreeSet<String>, u64) {
        let rows = self
            .0
            .db
            .client()
            .query("SELECT sha FROM tap.commits", &[])
            .unwrap();
        let n = rows.len() as u64;
        (rows.iter().map(|r| r.get::<_, String>(0)).collect(), n)
    }
}

#[test]
fn sigkill_mid_load_keeps_exactly_what_the_last_state_covers() {
    crash_test::sigkill_mid_load_keeps_exactly_what_the_last_state_covers(
        &Postgres(setup()),
        Keys::Sha,
    );
}

#[test]
fn sigkill_mid_load_of_a_keyless_stream_resumes_without_duplicates() {
    crash_test::sigkill_mid_load_keeps_exactly_what_the_last_state_covers(
        &Postgres(setup()),
        Keys::None,
    );
}
