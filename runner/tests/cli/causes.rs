//! Why a run failed reaches the summary, `tapline runs` and `--output json`; `--output json`
//! prints exactly one object whatever happens.

use crate::support::*;

/// `run --output json`: the exit code and the one JSON object on stdout.
fn run_json(p: &Pipeline, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut all = vec!["run", "--output", "json", "--no-dbt"];
    all.extend(args);
    let out = p.tapline(&all);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "one JSON object: {text}{}",
        stderr(&out)
    );
    let value = serde_json::from_str(&text).unwrap();
    (out.status.code(), value, stderr(&out))
}

/// The last run's error as `tapline runs --output json` shows it.
fn stored_error(p: &Pipeline) -> String {
    let out = p.tapline(&["runs", "--output", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    runs[0]["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_401_is_the_error_in_the_summary_the_history_and_json() {
    let fake = fake(&[("octo/app", 10, 2)], 0, Some("right-token"));
    let p = Pipeline::github(&fake, &["octo/app"], ", auth_token = \"wrong-token\"", "");
    let (code, report, err) = run_json(&p, &[]);
    assert_eq!(code, Some(1), "{err}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.starts_with("tap-github failed (exit status: 1): ") && error.contains("401"),
        "{report}"
    );
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["status"], "failed");
    assert_eq!(stored_error(&p), error);
    assert!(err.lines().last().unwrap().contains("401"), "{err}");
    let text = String::from_utf8(p.tapline(&["run", "--no-dbt"]).stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("error: ") && l.contains("401")),
        "{text}"
    );
}

#[test]
fn a_refused_connection_is_the_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let p = Pipeline::with_text(&format!(
        r#"name = "github"
[tap]
executable = "{tap}"
config = {{ repositories = ["octo/app"], api_url = "http://127.0.0.1:{port}", max_retries = 0 }}
[target]
executable = "{target}"
config = {{ database = "data/github.db" }}
"#,
        tap = sibling("tap-github").display(),
        target = sibling("target-sqlite").display(),
    ));
    let (code, report, err) = run_json(&p, &["--select", "commits"]);
    let error = report["error"].as_str().unwrap().to_lowercase();
    // Refused at discovery (the catalog is read from the API) or during the sync: either way
    // the tap's own words are the error.
    assert!(matches!(code, Some(1)), "{err}");
    assert!(error.contains("connect"), "{report}\n{err}");
    assert!(stored_error(&p).to_lowercase().contains("connect"));
}

#[test]
fn a_target_schema_error_is_the_error() {
    let p = script_pipeline("");
    script(
        &p,
        "tap.sh",
        r#"echo '{"type":"SCHEMA","stream":"things","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["nope"]}'"#,
    );
    let (code, report, err) = run_json(&p, &[]);
    assert_eq!(code, Some(1), "{err}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.starts_with("target-sqlite failed (exit status: 1): target-sqlite: error: ")
            && error.contains("nope"),
        "{report}"
    );
    assert_eq!(stored_error(&p), error);
}

#[test]
fn config_errors_print_one_json_object_with_every_problem() {
    let fake = fake(&[("octo/app", 10, 2)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], ", repositores = [\"a/b\"]", "");
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        toml.replace(
            "database = \"data/github.db\"",
            "database = \"data/github.db\", batch_size_rows = \"100\"",
        ),
    )
    .unwrap();
    let (code, report, err) = run_json(&p, &[]);
    assert_eq!(code, Some(2));
    assert_eq!(report["status"], "config_error");
    assert_eq!(report["exit_code"], 2);
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("tap.config.repositores: unknown setting (did you mean `repositories`?)"),
        "{error}"
    );
    assert!(
        error.contains("target.config.batch_size_rows: \"100\""),
        "{error}"
    );
    assert!(
        err.contains("tap.config.repositores") && err.contains("target.config.batch_size_rows")
    );
    assert!(!p.path().join("data").exists(), "nothing ran");
    // A pipeline file that does not parse is one object too.
    let p = Pipeline::with_text("name = \n");
    let (code, report, _) = run_json(&p, &[]);
    assert_eq!(
        (code, report["status"].as_str()),
        (Some(2), Some("config_error"))
    );
    assert!(report["error"].as_str().unwrap().contains("tapline.toml"));
}

#[test]
fn a_refused_lock_prints_one_json_object() {
    let p = script_pipeline("");
    script(
        &p,
        "tap.sh",
        r#"echo '{"type":"SCHEMA","stream":"things","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}'
sleep 30"#,
    );
    let mut first = p
        .command(&["run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(std::time::Duration::from_secs(20), || {
            p.path().join(".tapline/script.lock").exists()
        }),
        "first run started"
    );
    let (code, report, _) = run_json(&p, &[]);
    signal(first.id(), nix::sys::signal::Signal::SIGTERM);
    let _ = first.wait();
    assert_eq!(code, Some(1));
    assert_eq!(report["status"], "locked");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("is already running"),
        "{report}"
    );
}

#[test]
fn an_unknown_select_stream_is_one_line_and_exit_2() {
    let fake = fake(&[("octo/app", 10, 2)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    let out = p.tapline(&["run", "--select", "comits"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "no summary: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(&out);
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("tapline:")).collect();
    assert_eq!(ours.len(), 1, "{err}");
    assert!(ours[0].contains("unknown stream(s) comits"), "{err}");
}
