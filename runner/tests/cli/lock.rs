//! One run per pipeline at a time.

use std::time::Duration;

use crate::support::*;

#[test]
fn a_second_concurrent_run_is_refused() {
    let fake = fake(&[("octo/app", 400, 10)], 40, None);
    let p = Pipeline::github(&fake, &["octo/app"], ", max_concurrency = 1", "");
    let mut first = p
        .command(&["run", "--select", "commits"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || fake.stats().total > 0),
        "first run started"
    );
    let out = p.tapline(&["run", "--select", "commits"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("pipeline `github` is already running"),
        "{err}"
    );
    assert!(first.wait().unwrap().success());
    assert!(
        p.tapline(&["run", "--select", "commits"]).status.success(),
        "the lock is released at the end"
    );
}
