//! Failures and their exit codes: config (2), tap or target (1), dbt (3); a failed tap keeps
//! the state its target made durable.

use crate::support::*;

const SCHEMA: &str = r#"{"type":"SCHEMA","stream":"things","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}"#;

#[test]
fn a_target_config_error_exits_2_before_anything_runs() {
    let p = Pipeline::with_text(&format!(
        "name = \"x\"\n[tap]\nexecutable = \"./tap.sh\"\n[target]\nexecutable = \"{}\"\nconfig = {{ database = \"data/x.db\", batch_size = 3 }}\n",
        sibling("target-sqlite").display()
    ));
    script(
        &p,
        "tap.sh",
        &format!("[ \"$1\" = --config ] && touch ran\necho '{SCHEMA}'"),
    );
    let out = p.tapline(&["run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tapline.toml: target.config.batch_size: unknown setting"),
        "{}",
        stderr(&out)
    );
    assert!(!p.path().join("ran").exists(), "the tap never ran");
}

#[test]
fn config_errors_exit_2_naming_file_and_key() {
    let p = Pipeline::with_text(
        "name = \"x\"\n[tap]\nexecutable = \"nope-not-here\"\nconfig = { a = \"${TAPLINE_TEST_UNSET_VAR}\" }\n[target]\nexecutable = \"also-missing\"\n",
    );
    let out = p.tapline(&["run"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("tapline.toml: environment variable `TAPLINE_TEST_UNSET_VAR` is not set"),
        "{err}"
    );
    let p = Pipeline::with_text(
        "name = \"x\"\n[tap]\nexecutable = \"nope-not-here\"\n[target]\nexecutable = \"also-missing\"\n",
    );
    let err = stderr(&p.tapline(&["run"]));
    assert!(
        err.contains("tapline.toml: tap.executable: `nope-not-here` not found"),
        "{err}"
    );
    assert!(
        err.contains("tapline.toml: target.executable: `also-missing` not found"),
        "every problem is reported: {err}"
    );
    let p = Pipeline::with_text("name = \"x\"\nnmae = 1\n");
    let err = stderr(&p.tapline(&["run"]));
    assert!(
        err.contains("tapline.toml: nmae: unknown field `nmae`"),
        "{err}"
    );
}

#[test]
fn a_failing_tap_exits_1_and_keeps_the_committed_state() {
    let p = script_pipeline("");
    script(
        &p,
        "tap.sh",
        &format!(
            "echo '{SCHEMA}'\necho '{{\"type\":\"RECORD\",\"stream\":\"things\",\"record\":{{\"id\":1}}}}'\n\
             echo '{{\"type\":\"STATE\",\"value\":{{\"n\":1}}}}'\n\
             echo '{{\"type\":\"RECORD\",\"stream\":\"things\",\"record\":{{\"id\":2}}}}'\n\
             echo 'tap: boom' >&2\nexit 3"
        ),
    );
    let out = p.tapline(&["run", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "failed");
    assert!(
        report["error"].as_str().unwrap().contains("tap.sh failed"),
        "{report}"
    );
    assert!(stderr(&out).contains("[tap.sh] tap: boom"));
    // The target got end-of-input: it committed what it had and its last bookmark is kept. The
    // record after that bookmark is committed too; the next run sends it again and the key
    // makes that an update.
    assert_eq!(p.state(), Some(serde_json::json!({"n": 1})));
    assert_eq!(
        p.keys("things", "id").into_iter().collect::<Vec<_>>(),
        vec!["1", "2"]
    );
}

#[test]
fn a_failing_target_exits_1() {
    let p = Pipeline::with_text(&format!(
        "name = \"x\"\n[tap]\nexecutable = \"./tap.sh\"\n[target]\nexecutable = \"{}\"\nconfig = {{ database = \"data/x.db\" }}\n",
        sibling("target-sqlite").display()
    ));
    script(
        &p,
        "tap.sh",
        &format!("echo '{}'", SCHEMA.replace("[\"id\"]", "[\"idd\"]")),
    );
    let out = p.tapline(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("[target-sqlite] target-sqlite: error: ") && err.contains("idd"),
        "the target's own error is relayed: {err}"
    );
    assert!(
        err.contains("tapline: error: target-sqlite failed"),
        "{err}"
    );
}

#[test]
fn a_tap_printing_non_singer_lines_is_stopped_with_the_line_number() {
    let p = script_pipeline("");
    script(
        &p,
        "tap.sh",
        &format!("echo '{SCHEMA}'\necho 'debug: hello'\nsleep 30"),
    );
    let out = p.tapline(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("tap output line 2 is not a Singer message (not a JSON object): debug: hello"),
        "{err}"
    );
}

#[test]
fn a_failing_dbt_exits_3_after_a_successful_load() {
    let p = script_pipeline(
        "[dbt]\nproject_dir = \"proj\"\ncommands = [\"run\", \"test\"]\nexecutable = \"./dbt.sh\"\n",
    );
    std::fs::create_dir_all(p.path().join("proj")).unwrap();
    std::fs::write(p.path().join("proj/dbt_project.yml"), "name: x\n").unwrap();
    script(
        &p,
        "tap.sh",
        &format!("echo '{SCHEMA}'\necho '{{\"type\":\"STATE\",\"value\":{{\"n\":1}}}}'"),
    );
    script(
        &p,
        "dbt.sh",
        "echo \"dbt $1 on $TAPLINE_DATABASE in $TAPLINE_DBT_SCHEMA_DIR\"\ntest \"$1\" = run",
    );
    let out = p.tapline(&["run", "--output", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "dbt_failed");
    assert_eq!(report["dbt"][0]["ok"], true);
    assert_eq!(report["dbt"][1]["ok"], false);
    let err = stderr(&out);
    let db = p.path().join("data/github.db");
    assert!(
        err.contains(&format!(
            "dbt run on {} in {}",
            db.display(),
            p.path().join("data/github_dbt").display()
        )),
        "{err}"
    );
    assert!(
        p.path().join("data/github_dbt").is_dir(),
        "the schema folder is created"
    );
    assert_eq!(
        p.state(),
        Some(serde_json::json!({"n": 1})),
        "the load's state is kept"
    );
    // --no-dbt skips it.
    assert!(p.tapline(&["run", "--no-dbt"]).status.success());
}

#[test]
fn after_a_failed_dbt_run_the_next_run_starts_dbt_again() {
    let p = script_pipeline("[dbt]\nproject_dir = \"proj\"\nexecutable = \"./dbt.sh\"\n");
    std::fs::create_dir_all(p.path().join("proj")).unwrap();
    std::fs::write(p.path().join("proj/dbt_project.yml"), "name: x\n").unwrap();
    script(
        &p,
        "tap.sh",
        &format!(
            "echo '{SCHEMA}'\necho '{{\"type\":\"RECORD\",\"stream\":\"things\",\"record\":{{\"id\":1}}}}'"
        ),
    );
    let (starts, fail) = (p.path().join("starts"), p.path().join("fail"));
    script(
        &p,
        "dbt.sh",
        &format!(
            "echo \"$1\" >> '{}'\ntest ! -e '{}'",
            starts.display(),
            fail.display()
        ),
    );
    let run = |args: &[&str]| {
        let out = p.tapline(&[&["run", "--output", "json"], args].concat());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report["dbt_decision"].clone())
    };
    let ran = |reason: &str| serde_json::json!({"ran": true, "reason": reason});
    let first = "no earlier successful dbt run of this pipeline";
    assert_eq!(run(&[]), (Some(0), ran(first)));
    // The same record again: nothing dbt reads changed.
    let (code, skipped) = run(&[]);
    assert_eq!(
        (code, skipped["ran"].clone()),
        (Some(0), false.into()),
        "{skipped}"
    );
    std::fs::write(&fail, "").unwrap();
    assert_eq!(run(&["--dbt", "always"]), (Some(3), ran("--dbt always")));
    std::fs::remove_file(&fail).unwrap();
    assert_eq!(run(&[]), (Some(0), ran(first)));
    let starts = std::fs::read_to_string(&starts).unwrap();
    assert_eq!(starts, "build\nbuild\nbuild\n", "one `dbt build` per start");
}

#[test]
fn state_commands_work_where_the_programs_are_not_installed() {
    let p = Pipeline::with_text(
        "name = \"x\"\n[tap]\nexecutable = \"tap-not-installed\"\n[target]\nexecutable = \"target-not-installed\"\n",
    );
    std::fs::write(
        p.path().join("meltano.json"),
        r#"{"singer_state": {"bookmarks": {"a": {"b": 1}}}}"#,
    )
    .unwrap();
    let set = p.tapline(&[
        "state",
        "set",
        p.path().join("meltano.json").to_str().unwrap(),
    ]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        p.state(),
        Some(serde_json::json!({"bookmarks": {"a": {"b": 1}}}))
    );
    assert!(p.tapline(&["runs"]).status.success());
    assert!(p.tapline(&["state", "clear"]).status.success());
    assert_eq!(p.state(), None);
    assert_eq!(
        p.tapline(&["run"]).status.code(),
        Some(2),
        "running still needs them"
    );
}
