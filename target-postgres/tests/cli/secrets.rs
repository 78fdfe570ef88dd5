//! A password in the connection string (or given on its own) never shows in a log line or
//! an error.

use serde_json::json;

use crate::support::*;

#[test]
fn password_in_the_url_is_masked() {
    let s = setup();
    // A server that is not there, so the connection fails and is reported.
    let socket = s.dir.path().join("nowhere");
    let url = format!(
        "postgres://loader:Hunter2%21secret@localhost/warehouse?host={}",
        socket.display()
    );
    std::fs::write(
        s.config_path(),
        json!({"url": url, "password_typo": "x"}).to_string(),
    )
    .unwrap();
    let out = run(&mut s.cmd(), "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("unknown field `password_typo`"), "{err}");

    std::fs::write(s.config_path(), json!({"url": url}).to_string()).unwrap();
    let out = run(&mut s.cmd(), corpus_input());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot connect to loader@"), "{err}");
    for secret in ["Hunter2", "Hunter2%21secret", "Hunter2!secret"] {
        assert!(!err.contains(secret), "{secret} in {err}");
    }

    // A URL that is no connection string: the error does not echo it either.
    std::fs::write(
        s.config_path(),
        json!({"url": "postgres://loader:Hunter2!secret@[bad/x"}).to_string(),
    )
    .unwrap();
    let out = run(&mut s.cmd(), corpus_input());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("Hunter2"), "{err}");

    // Loading works with the password given on its own (trust auth ignores it) and no log
    // line shows it.
    let mut settings = s.db.settings();
    settings["password"] = json!("Hunter2!secret");
    settings["schema"] = json!("tap");
    std::fs::write(s.config_path(), settings.to_string()).unwrap();
    let mut cmd = s.cmd();
    cmd.env("TAPLINE_LOG", "debug");
    let out = run_ok(&mut cmd, corpus_input());
    assert!(!stderr(&out).contains("Hunter2"), "{}", stderr(&out));
}

fn corpus_input() -> Vec<u8> {
    crate::corpus::prefix()
}
