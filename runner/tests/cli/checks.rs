//! `tapline validate` and the checks `tapline run` makes before anything runs.

use crate::support::*;

#[test]
fn validate_checks_everything_and_runs_nothing() {
    let fake = fake(&[("octo/app", 10, 2)], 0, None);
    let p = Pipeline::github(&fake, &["octo/app"], "", "");
    let out = p.tapline(&["validate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("is valid") && err.contains("config matches its --about schema"),
        "{err}"
    );
    assert_eq!(fake.stats().total, 0, "no request made");
    assert!(!p.path().join("data").exists(), "no database made");
    assert!(
        !p.path().join(".tapline/state.db").exists(),
        "no state database made"
    );

    // Every problem at once: configs, dbt project, state location.
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(p.path().join("blocked"), "a file, not a folder").unwrap();
    let broken = toml.replace("repositories =", "repositores =").replace(
        "database = \"data/github.db\"",
        "database = \"data/github.db\", batch_size_rows = \"100\"",
    ) + "[dbt]\nproject_dir = \"nowhere\"\n[state]\ndatabase = \"blocked/state.db\"\n";
    std::fs::write(p.path().join("tapline.toml"), &broken).unwrap();
    let out = p.tapline(&["validate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("dbt.project_dir: no dbt_project.yml"), "{err}");
    assert!(
        err.contains("tap.config.repositores") && err.contains("state.database"),
        "the configs and the state location are checked even so: {err}"
    );
    // The dbt problem stops the plan; without dbt the rest shows, all at once.
    let out = p.tapline(&["validate", "--no-dbt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for expected in [
        "tap.config.repositores: unknown setting (did you mean `repositories`?)",
        "target.config.batch_size_rows: \"100\" is not of type \"integer\"",
        "state.database: cannot write in",
    ] {
        assert!(err.contains(expected), "{expected} in {err}");
    }
    assert_eq!(err.lines().count(), 3, "{err}");
}

#[test]
fn no_dbt_needs_no_dbt_project_and_wal_is_accepted_as_written() {
    let fake = fake(&[("octo/app", 10, 2)], 0, None);
    let p = Pipeline::github(
        &fake,
        &["octo/app"],
        "",
        "[dbt]\nproject_dir = \"nowhere\"\n",
    );
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        toml.replace(
            "database = \"data/github.db\"",
            "database = \"data/github.db\", journal_mode = \"wal\", synchronous = \"normal\"",
        ),
    )
    .unwrap();
    assert_eq!(
        p.tapline(&["run", "--select", "commits"]).status.code(),
        Some(2)
    );
    let out = p.tapline(&["run", "--select", "commits", "--no-dbt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.rows("commits"), 10);
}

#[test]
fn a_program_without_about_is_not_checked() {
    let p = script_pipeline("");
    script(
        &p,
        "tap.sh",
        r#"case "$1" in --about) echo 'usage: tap.sh --config FILE' >&2; exit 2;; esac
echo '{"type":"SCHEMA","stream":"things","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}'"#,
    );
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        toml.replace("[target]", "config = { anything = 1 }\n[target]"),
    )
    .unwrap();
    let out = p.tapline(&["validate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no usable --about schema: config not checked"));
    assert!(p.tapline(&["run"]).status.success());
}

#[test]
fn a_schema_file_checks_a_program_without_about() {
    let p = script_pipeline("");
    script(&p, "tap.sh", "exit 0");
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        toml.replace(
            "[target]",
            "config = { repo = \"a/b\" }\nsettings_schema = \"tap.schema.json\"\n[target]",
        ),
    )
    .unwrap();
    std::fs::write(
        p.path().join("tap.schema.json"),
        r#"{"type": "object", "additionalProperties": false, "properties": {"repos": {"type": "array"}}}"#,
    )
    .unwrap();
    let out = p.tapline(&["validate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tap.config.repo: unknown setting (did you mean `repos`?)"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(p.path().join("tap.schema.json")).unwrap();
    let out = p.tapline(&["validate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tap.settings_schema: cannot read"),
        "{}",
        stderr(&out)
    );
}
