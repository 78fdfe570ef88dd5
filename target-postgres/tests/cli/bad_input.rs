//! The bad-input corpus every target runs (`target-core/testsupport/corpus.rs`).

use serde_json::json;

use crate::corpus;
use crate::support::*;

#[test]
fn shared_bad_input_corpus() {
    for case in corpus::cases() {
        let mut settings = json!({"batch_size_rows": 1});
        for (k, v) in case.settings.as_object().unwrap() {
            settings[k] = v.clone();
        }
        let s = setup_with(settings);
        let mut input = corpus::prefix();
        input.extend_from_slice(&case.tail);
        let out = run(&mut s.cmd(), input);
        let name = case.name;
        match &case.error {
            Some(start) => assert_error_starting(&out, start),
            None => assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out)),
        }
        assert_eq!(stdout_json(&out), case.stdout, "{name}: stdout");
        let ids: Vec<i64> = s
            .column("SELECT id FROM tap.users ORDER BY id")
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(ids, case.ids, "{name}: rows");
    }
}

/// A config that names no server, and a server that is not there.
#[test]
fn connection_problems_are_one_line() {
    let s = setup();
    std::fs::write(s.config_path(), r#"{"schema": "x"}"#).unwrap();
    let out = run(&mut s.cmd(), "");
    assert_error_starting(
        &out,
        &format!("config {}: give `url` or `host`", s.config_path().display()),
    );
    let missing = s.dir.path().join("no-server");
    s.write_config(json!({"host": missing}));
    let out = run(&mut s.cmd(), corpus::prefix());
    assert_error_starting(
        &out,
        &format!("cannot connect to postgres@{}:5432/", missing.display()),
    );
    assert!(out.stdout.is_empty());
}
