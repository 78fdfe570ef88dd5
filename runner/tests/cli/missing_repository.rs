//! A repository the user named that answers 404: the run fails naming it, the other
//! repositories' data and bookmarks are kept, dbt does not run, and no full-table stream is
//! activated, so that repository's earlier full-table rows stay as they were.

use crate::support::*;

#[test]
fn a_named_repository_that_is_gone_fails_the_run_and_skips_dbt() {
    let both = fake(&[("octo/app", 20, 4), ("octo/docs", 10, 2)], 0, None);
    let p = Pipeline::github(
        &both,
        &["octo/app", "octo/docs"],
        "",
        "[dbt]\nproject_dir = \"proj\"\nexecutable = \"./dbt.sh\"\n",
    );
    std::fs::create_dir_all(p.path().join("proj")).unwrap();
    std::fs::write(p.path().join("proj/dbt_project.yml"), "name: x\n").unwrap();
    script(&p, "dbt.sh", "echo \"$1\" >> dbt-ran");
    let out = p.tapline(&["run", "--select", "commits,stargazers"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(p.path().join("proj/dbt-ran")).unwrap(),
        "build\n"
    );
    std::fs::remove_file(p.path().join("proj/dbt-ran")).unwrap();
    let stargazers_of = |repo: &str, deleted: bool| -> i64 {
        p.db()
            .query_row(
                &format!(
                    "SELECT count(*) FROM stargazers WHERE _sdc_repository = ?1 AND _sdc_deleted_at IS {} NULL",
                    if deleted { "NOT" } else { "" }
                ),
                [repo],
                |r| r.get(0),
            )
            .unwrap()
    };
    let docs_stargazers = stargazers_of("octo/docs", false);
    assert!(docs_stargazers > 0);

    // The same API, where octo/docs is gone (the same seed makes the same octo/app).
    let app_only = fake(&[("octo/app", 20, 4)], 0, None);
    let toml = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        toml.replace(&both.api_url(), &app_only.api_url()),
    )
    .unwrap();
    let out = p.tapline(&["run", "--select", "commits,stargazers", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("octo/docs"), "{error}");
    assert_eq!(report["dbt"], serde_json::json!([]), "dbt does not run");
    assert!(!p.path().join("proj/dbt-ran").exists());
    assert!(report["states_saved"].as_u64().unwrap() >= 1, "{report}");
    assert!(
        p.state().unwrap()["bookmarks"]["commits"]
            .to_string()
            .contains("octo/app"),
        "octo/app's bookmarks are kept"
    );
    // No ACTIVATE_VERSION for stargazers: octo/docs' rows are not retired by a failed run.
    assert_eq!(stargazers_of("octo/docs", false), docs_stargazers);
    assert_eq!(stargazers_of("octo/docs", true), 0);
    assert!(stargazers_of("octo/app", false) > 0);
}
