//! Validates every endpoint's answers against GitHub's official OpenAPI description (npm package
//! `@octokit/openapi`, pinned). The description is fetched with `npm pack` into
//! `${XDG_CACHE_HOME:-~/.cache}/tapline/openapi-VERSION/` when absent (or read from
//! `$TAPLINE_OPENAPI_JSON`); it is never committed. A failed fetch fails the test.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use axum::Router;
use serde_json::{Map, Value, json};

use crate::support::{request, walk, world};

/// The pinned `@octokit/openapi` version.
pub const OPENAPI_VERSION: &str = "23.0.2";
const FILE: &str = "package/generated/api.github.com.json";

fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME must be set to cache the OpenAPI description");
    base.join("tapline")
        .join(format!("openapi-{OPENAPI_VERSION}"))
}

/// Path of `api.github.com.json`, fetching the package first if needed.
fn description_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TAPLINE_OPENAPI_JSON") {
        return PathBuf::from(p);
    }
    let dir = cache_dir();
    let file = dir.join(FILE);
    if file.exists() {
        return file;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join(format!(".fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let pkg = format!("@octokit/openapi@{OPENAPI_VERSION}");
    let out = Command::new("npm")
        .args(["pack", &pkg, "--silent", "--pack-destination"])
        .arg(&tmp)
        .current_dir(&tmp)
        .output();
    let ok = matches!(&out, Ok(o) if o.status.success());
    assert!(
        ok,
        "could not fetch GitHub's OpenAPI description with `npm pack {pkg}` into {}: {:?}. \
         Run it by hand there, or point TAPLINE_OPENAPI_JSON at api.github.com.json.",
        tmp.display(),
        out.map(|o| String::from_utf8_lossy(&o.stderr).to_string())
    );
    let tgz = tmp.join(format!("octokit-openapi-{OPENAPI_VERSION}.tgz"));
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(&tmp)
        .arg(FILE)
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "could not untar {}",
        tgz.display()
    );
    // Another test process may have won the race: either copy is the same file.
    let _ = std::fs::rename(tmp.join("package"), dir.join("package"));
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(file.exists(), "{} missing after the fetch", file.display());
    file
}

/// OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a `null` type (or an `anyOf` with null).
fn convert(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(convert),
        Value::Object(o) => {
            o.values_mut().for_each(convert);
            if o.remove("nullable") == Some(Value::Bool(true)) {
                match o.get("type").cloned() {
                    Some(Value::String(t)) => {
                        o.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(e)) = o.get_mut("enum") {
                            e.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(o));
                        o.insert("anyOf".into(), json!([{"type": "null"}, inner]));
                    }
                }
            }
        }
        _ => {}
    }
}

/// The converted description.
fn description() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = description_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["info"]["version"], OPENAPI_VERSION);
        convert(&mut v);
        v
    })
}

fn validator(path: &str, status: &str) -> jsonschema::Validator {
    let spec = description();
    let mut response = &spec["paths"][path]["get"]["responses"][status];
    if let Some(r) = response["$ref"].as_str() {
        let name = r.strip_prefix("#/components/responses/").unwrap();
        response = &spec["components"]["responses"][name];
    }
    let schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        !schema.is_null(),
        "no {status} schema for GET {path} in the description"
    );
    let mut root = Map::new();
    root.insert(
        "components".into(),
        json!({"schemas": spec["components"]["schemas"].clone()}),
    );
    root.insert("allOf".into(), json!([schema]));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap()
}

fn check(v: &jsonschema::Validator, what: &str, instance: &Value) {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match GitHub's schema:\n{}",
        errors.join("\n")
    );
}

async fn check_list(app: &Router, path: &str, uri: &str, headers: &[(&str, &str)]) -> usize {
    let v = validator(path, "200");
    let (items, _) = walk(app, uri, headers).await;
    // Validate pages of the real size GitHub sends: the schema is for the whole array.
    for chunk in items.chunks(100) {
        check(&v, uri, &Value::Array(chunk.to_vec()));
    }
    items.len()
}

#[tokio::test]
async fn every_endpoint_matches_the_official_description() {
    let (world, app) = world();
    world
        .mutate(
            "octo/app",
            fake_github::Mutation {
                new_commits: 3,
                update_issues: 6,
                new_issues: 4,
                update_pulls: 2,
                update_comments: 3,
                merged_commits: 2,
                merged_age_s: 86_400,
                merge_commit: true,
                force_push: 1,
            },
        )
        .unwrap();
    let repo = validator("/repos/{owner}/{repo}", "200");
    for r in ["octo/app", "octo/empty", "mona/solo"] {
        check(
            &repo,
            r,
            &request(&app, &format!("/repos/{r}"), &[]).await.json(),
        );
    }
    let lists = [
        (
            "/repos/{owner}/{repo}/commits",
            "/repos/octo/app/commits?per_page=100",
        ),
        (
            "/repos/{owner}/{repo}/commits",
            "/repos/mona/solo/commits?per_page=100",
        ),
        (
            "/repos/{owner}/{repo}/issues",
            "/repos/octo/app/issues?state=all&per_page=100",
        ),
        (
            "/repos/{owner}/{repo}/pulls",
            "/repos/octo/app/pulls?state=all&per_page=100",
        ),
        (
            "/repos/{owner}/{repo}/issues/comments",
            "/repos/octo/app/issues/comments?per_page=100",
        ),
        (
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            "/repos/octo/app/issues/2/comments",
        ),
        (
            "/repos/{owner}/{repo}/releases",
            "/repos/octo/app/releases?per_page=100",
        ),
        (
            "/repos/{owner}/{repo}/stargazers",
            "/repos/octo/app/stargazers?per_page=100",
        ),
        (
            "/repos/{owner}/{repo}/contributors",
            "/repos/octo/app/contributors?per_page=100",
        ),
        ("/orgs/{org}/repos", "/orgs/octo/repos"),
    ];
    for (path, uri) in lists {
        let n = check_list(&app, path, uri, &[]).await;
        assert!(
            n > 0 || uri.contains("/issues/2/"),
            "{uri} returned nothing to validate"
        );
    }
    // Reviews: every pull request's list (mutated ones included), and the 404 of an issue.
    let truth = world.truth("octo/app").unwrap();
    let mut reviews = 0;
    for pr in truth.issues.iter().filter(|i| i.is_pr) {
        let uri = format!("/repos/octo/app/pulls/{}/reviews", pr.number);
        reviews += check_list(
            &app,
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
            &uri,
            &[],
        )
        .await;
    }
    assert_eq!(reviews, truth.reviews.len());
    assert!(reviews > 0);
    let issue = truth.issues.iter().find(|i| !i.is_pr).unwrap().number;
    let not_a_pull = request(&app, &format!("/repos/octo/app/pulls/{issue}/reviews"), &[]).await;
    assert_eq!(not_a_pull.status, 404);
    check(
        &validator("/repos/{owner}/{repo}", "404"),
        "reviews 404",
        &not_a_pull.json(),
    );
    let star = [("accept", "application/vnd.github.star+json")];
    let n = check_list(
        &app,
        "/repos/{owner}/{repo}/stargazers",
        "/repos/octo/app/stargazers",
        &star,
    )
    .await;
    assert!(n > 0);
    check(
        &validator("/rate_limit", "200"),
        "/rate_limit",
        &request(&app, "/rate_limit", &[]).await.json(),
    );
    let compare = validator("/repos/{owner}/{repo}/compare/{basehead}", "200");
    let root = world.truth("octo/app").unwrap().commits[40].sha.clone();
    for uri in [
        format!("/repos/octo/app/compare/{root}...main"),
        format!("/repos/octo/app/compare/{root}...main?per_page=30&page=2"),
        "/repos/octo/app/compare/main...HEAD".to_owned(),
    ] {
        check(&compare, &uri, &request(&app, &uri, &[]).await.json());
    }
    let missing = request(&app, "/repos/octo/app/compare/main...0000000", &[]).await;
    check(
        &validator("/repos/{owner}/{repo}/compare/{basehead}", "404"),
        "compare 404",
        &missing.json(),
    );
    let nf = request(&app, "/repos/octo/nope", &[]).await;
    check(
        &validator("/repos/{owner}/{repo}", "404"),
        "404",
        &nf.json(),
    );
    let empty = request(&app, "/repos/octo/empty/commits", &[]).await;
    check(
        &validator("/repos/{owner}/{repo}/commits", "409"),
        "409",
        &empty.json(),
    );
}

#[test]
fn conversion_handles_nullable_forms() {
    let mut v = json!({"a": {"type": "string", "nullable": true, "enum": ["x"]}, "b": {"nullable": true, "allOf": [{"$ref": "#/x"}]}});
    convert(&mut v);
    assert_eq!(
        v["a"],
        json!({"type": ["string", "null"], "enum": ["x", null]})
    );
    assert_eq!(
        v["b"],
        json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/x"}]}]})
    );
}
