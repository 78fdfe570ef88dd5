//! `tap-rest check`: what it shows for a connector that works, and the one-line diagnostics of
//! the usual mistakes.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// A working connector for fake-shelf.
const DEFINITIONS: &str = r#"
[connector]
name = "shelf"

[settings]
api_url = { type = "string", required = true }
token = { type = "string", secret = true, required = true }

[http]
base_url = "{api_url:raw}"

[auth]
kind = "bearer"
token = "{token}"

[[stream]]
name = "books"
path = "/books"
params = { per_page = "5" }
records = "/books"
primary_key = ["id"]
replication = { mode = "since_param", param = "updated_since", key = "/updated_at", order = "ascending" }
paginator = { kind = "next_url", from = { pointer = "/next_page" } }

[[stream]]
name = "reviews"
parent = { stream = "books", context = { book_id = "/id" } }
path = "/books/{book_id}/reviews"
records = "/reviews"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "next_url", from = { pointer = "/next_page" } }
"#;

const BOOKS: &str = r#"{"type": "object", "properties": {
  "id": {"type": "integer"}, "title": {"type": "string"}, "author": {"type": "string"},
  "published_year": {"type": ["null", "integer"]}, "shelf": {"type": "string"},
  "created_at": {"type": "string"}, "updated_at": {"type": "string"}}}"#;

const REVIEWS: &str = r#"{"type": "object", "properties": {
  "id": {"type": "integer"}, "book_id": {"type": "integer"}, "rating": {"type": "integer"},
  "text": {"type": "string"}, "created_at": {"type": "string"}}}"#;

/// A folder with the connector (`edit` changes its definitions and reviews schema) and a
/// config for a fresh fake-shelf, with `token`.
fn connector(
    edit: impl Fn(&str) -> String,
    reviews: &str,
    token: &str,
) -> (tempfile::TempDir, fake_shelf::Running) {
    let fake = fake_shelf::spawn(fake_shelf::DEFAULT_TOKEN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shelf.toml"), edit(DEFINITIONS)).unwrap();
    let schemas = dir.path().join("schemas/shelf");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::write(schemas.join("books.json"), BOOKS).unwrap();
    std::fs::write(schemas.join("reviews.json"), reviews).unwrap();
    let config = serde_json::json!({"api_url": fake.api_url(), "token": token});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    (dir, fake)
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("tap-rest")
        .unwrap()
        .current_dir(dir)
        .args([
            "check",
            "--definitions",
            "shelf.toml",
            "--config",
            "config.json",
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn same(s: &str) -> String {
    s.to_owned()
}

#[test]
fn a_working_connector_shows_request_records_next_page_and_bookmark_and_exits_0() {
    let (dir, fake) = connector(same, REVIEWS, fake_shelf::DEFAULT_TOKEN);
    let (code, out, err) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let base = fake.api_url();
    for line in [
        format!("request:  GET {base}/books?per_page=5  (auth: Authorization: Bearer ********)"),
        "records:  5 at `/books`, the first 3 shown".to_owned(),
        format!("next:     {base}/books?page=2&per_page=5"),
        r#"bookmark: {"updated_at":"2024-02-05T12:30:00Z"}"#.to_owned(),
        // The child stream is read for the first book of the first page.
        format!("request:  GET {base}/books/1/reviews  (auth: Authorization: Bearer ********)"),
        "records:  2 at `/reviews`, all shown".to_owned(),
        "next:     none, the list ends here: `/next_page` is null".to_owned(),
        "2 streams checked: all ok".to_owned(),
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "no line `{line}` in:\n{out}"
        );
    }
    assert!(out.contains("\"title\": \"Dune\""), "{out}");
    assert!(
        !out.contains(fake_shelf::DEFAULT_TOKEN),
        "the token is printed:\n{out}"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("{\"type\"")),
        "Singer messages on stdout:\n{out}"
    );
}

#[test]
fn json_output_holds_the_same_report() {
    let (dir, _fake) = connector(same, REVIEWS, fake_shelf::DEFAULT_TOKEN);
    let (code, out, _) = check(dir.path(), &["--output", "json"]);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["ok"], true);
    let books = &doc["streams"][0];
    assert_eq!(books["stream"], "books");
    assert_eq!(books["ok"], true);
    assert_eq!(books["status"], 200);
    assert_eq!(books["records"], 5);
    assert_eq!(books["first"].as_array().unwrap().len(), 3);
    assert_eq!(
        books["bookmark"]["value"]["updated_at"],
        "2024-02-05T12:30:00Z"
    );
    assert!(books["time_ms"].is_u64());
    assert_eq!(doc["streams"][1]["records"], 2);
}

#[test]
fn a_record_path_that_finds_nothing_names_the_keys_and_the_list() {
    let (dir, _fake) = connector(
        |d| d.replacen("records = \"/books\"", "records = \"/data\"", 1),
        REVIEWS,
        fake_shelf::DEFAULT_TOKEN,
    );
    let (code, out, _) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error:    record path `records = \"/data\"` finds nothing: keys at the top level: books, count, next_page; the list is probably `/books`"),
        "{out}"
    );
    assert!(
        out.contains("not requested: parent `books` failed"),
        "{out}"
    );
}

#[test]
fn an_absent_paginator_pointer_or_header_names_what_came() {
    let (dir, _fake) = connector(
        |d| d.replacen("pointer = \"/next_page\"", "pointer = \"/next\"", 1),
        REVIEWS,
        fake_shelf::DEFAULT_TOKEN,
    );
    let (code, out, _) = check(dir.path(), &["--stream", "books"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error:    paginator `from.pointer = \"/next\"` is not in the body: keys at the top level: books, count, next_page\n"),
        "{out}"
    );
    let (dir, _fake) = connector(
        |d| {
            d.replacen(
                "{ pointer = \"/next_page\" }",
                "{ header = \"X-Next-Page\" }",
                1,
            )
        },
        REVIEWS,
        fake_shelf::DEFAULT_TOKEN,
    );
    let (code, out, _) = check(dir.path(), &["--stream", "books"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error:    paginator `from.header = \"X-Next-Page\"` is not in the answer (headers: content-length, content-type, date)"),
        "{out}"
    );
}

#[test]
fn error_statuses_show_the_bodys_message_and_what_to_check() {
    let (dir, _fake) = connector(same, REVIEWS, "wrong-token");
    let (code, out, _) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "error:    401 invalid access token: the credentials were refused: check token\n"
        ),
        "{out}"
    );
    assert!(!out.contains("wrong-token"), "{out}");

    let (dir, _fake) = connector(
        |d| {
            d.replacen(
                "path = \"/books/{book_id}/reviews\"",
                "path = \"/drafts\"",
                1,
            )
        },
        REVIEWS,
        fake_shelf::DEFAULT_TOKEN,
    );
    let (code, out, _) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error:    403 this token may not read drafts: the credentials are valid but may not read this"),
        "{out}"
    );

    let (dir, _fake) = connector(
        |d| d.replacen("path = \"/books\"", "path = \"/bookz\"", 1),
        REVIEWS,
        fake_shelf::DEFAULT_TOKEN,
    );
    let (code, out, _) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error:    404 no such route: no such resource: check the stream's `path` and `http.base_url`"),
        "{out}"
    );
}

#[test]
fn schema_mismatches_and_undeclared_properties_fail_the_check() {
    let reviews = r#"{"type": "object", "properties": {
      "id": {"type": "integer"}, "book_id": {"type": "integer"}, "rating": {"type": "string"},
      "created_at": {"type": "string"}}}"#;
    let (dir, _fake) = connector(same, reviews, fake_shelf::DEFAULT_TOKEN);
    let (code, out, _) = check(dir.path(), &["--stream", "reviews"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("schema:   record 1 at /rating: 3 is not of type \"string\""),
        "{out}"
    );
    assert!(
        out.contains("schema:   not declared (the tap drops them): text"),
        "{out}"
    );
    // The parent came along and passed.
    assert!(
        out.contains("2 streams checked: 1 failed (reviews)"),
        "{out}"
    );
}

#[test]
fn an_unknown_stream_is_refused_with_the_names() {
    let (dir, _fake) = connector(same, REVIEWS, fake_shelf::DEFAULT_TOKEN);
    let (code, _, err) = check(dir.path(), &["--stream", "bookz"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--stream bookz: no such stream (streams: books, reviews)"),
        "{err}"
    );
}
