//! Wrong definitions files: each mistake is one error naming the file, the line and the key,
//! from `Definitions::parse` and from the `tap-rest` binary before any request.

use tap_rest::defs::Definitions;

/// A valid file; each case replaces one piece of it.
pub const VALID: &str = r#"[connector]
name = "ledger"

[settings]
api_url = { type = "string" }
books = { type = "array" }

[http]
base_url = "{api_url:raw}"

[partitions]
key = "book"
sources = [{ kind = "setting", setting = "books" }]

[[stream]]
name = "entries"
path = "/books/{book}/entries"
records = "/entries"
primary_key = ["id"]
replication = { mode = "since_param", param = "posted_after", key = "/posted", order = "ascending" }
paginator = { kind = "cursor", from = { pointer = "/next" }, into = { param = "cursor" } }

[[stream]]
name = "lines"
path = "/books/{book}/entries/{entry}/lines"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }
parent = { stream = "entries", context = { entry = "/id" } }
"#;

/// (text replaced, its replacement, the error: exact, or its start when it ends with `…`).
const CASES: &[(&str, &str, &str)] = &[
    (
        "primary_key = [\"id\"]\nreplication = { mode = \"since",
        "primary_keys = [\"id\"]\nreplication = { mode = \"since",
        "ledger.toml:19: `stream[0].primary_keys`: unknown field `primary_keys`, expected one of …",
    ),
    (
        "records = \"/entries\"",
        "records = \"/entries\"\nweight = \"heavy\"",
        "ledger.toml:19: `stream[0].weight`: invalid type: string \"heavy\", expected u32",
    ),
    (
        "kind = \"cursor\"",
        "kind = \"token\"",
        "ledger.toml:21: `stream[0].paginator.kind`: unknown variant `token`, expected one of …",
    ),
    (
        "records = \"/entries\"",
        "records = \"entries\"",
        "ledger.toml:18: `stream[0].records`: `entries` is not a JSON pointer (it starts with /)",
    ),
    (
        "{ pointer = \"/next\" }",
        "{ pointer = \"next\" }",
        "ledger.toml:21: `stream[0].paginator`: `next` is not a JSON pointer (it starts with /)",
    ),
    (
        "/books/{book}/entries\"",
        "/books/{ledger}/entries\"",
        "ledger.toml:17: `stream[0].path`: `{ledger}` is neither a setting nor a context field",
    ),
    (
        "base_url = \"{api_url:raw}\"",
        "base_url = \"{api_url:weird}\"",
        "ledger.toml:9: `http.base_url`: `{api_url:weird}`: unknown format `weird` (raw, epoch, epoch_ms or a strftime pattern)",
    ),
    (
        "order = \"ascending\" }",
        "order = \"descending\", reanchor = true }",
        "ledger.toml:20: `stream[0].replication.reanchor`: needs order = \"ascending\"",
    ),
    (
        "into = { param = \"cursor\" } }\n",
        "into = { param = \"cursor\" } }\n[stream.head]\npointer = \"/id\"\npath = \"/books/{book}/diff/{old}/{new}\"\nrecords = \"/entries\"\nstatus = \"/status\"\nancestor = [\"behind\"]\n",
        "ledger.toml:22: `stream[0].head`: needs replication mode since_param with `param` and order = \"descending\"",
    ),
    (
        "stream = \"entries\"",
        "stream = \"journal\"",
        "ledger.toml:29: `stream[1].parent.stream`: there is no stream `journal`",
    ),
    (
        "replication = { mode = \"full_table\" }",
        "replication = { mode = \"early_stop\", key = \"/at\" }",
        "ledger.toml:27: `stream[1].replication`: a child stream is read whole for each parent record: use mode = \"full_table\"",
    ),
    (
        "books = { type = \"array\" }",
        "books = { type = \"array\" }\nmax_retries = { type = \"integer\" }",
        "ledger.toml:7: `settings.max_retries`: is one of the engine's own settings; pick another name",
    ),
    (
        "setting = \"books\"",
        "setting = \"book_list\"",
        "ledger.toml:13: `partitions.sources[0].setting`: `book_list` is not a declared setting",
    ),
    (
        "paginator = { kind = \"none\" }",
        "paginator = { kind = \"none\" }\nbody = { q = \"x\" }",
        "ledger.toml:29: `stream[1].body`: a body needs method = \"POST\"",
    ),
    (
        "into = { param = \"cursor\" }",
        "into = { body = \"cursor\" }",
        "ledger.toml:21: `stream[0].paginator.into`: a cursor into the body needs method = \"POST\"",
    ),
    (
        "paginator = { kind = \"none\" }",
        "paginator = { kind = \"page_number\", param = \"p\", size_param = \"n\" }",
        "ledger.toml:28: `stream[1].paginator.size_param`: needs `size`, the value to send",
    ),
    (
        "order = \"ascending\" }",
        "order = \"ascending\", timezone = { setting = \"zone\" } }",
        "ledger.toml:20: `stream[0].replication.timezone.setting`: `zone` is not a declared setting",
    ),
    (
        "order = \"ascending\" }",
        "order = \"ascending\", timezone = { name = \"Europe/Pariss\" } }",
        "ledger.toml:20: `stream[0].replication.timezone.name`: `Europe/Pariss` is not an IANA time zone",
    ),
    ("name = \"ledger\"", "name = \"ledger", "ledger.toml:2: …"),
];

fn check(got: &str, expected: &str) {
    match expected.strip_suffix('…') {
        Some(start) => assert!(got.starts_with(start), "{got}\nstarts with\n{start}"),
        None => assert_eq!(got, expected),
    }
}

#[test]
fn each_mistake_names_the_file_the_line_and_the_key() {
    assert!(Definitions::parse(VALID, "ledger.toml").is_ok());
    for (from, to, expected) in CASES {
        let text = VALID.replacen(from, to, 1);
        assert_ne!(text, VALID, "{from}");
        let e = Definitions::parse(&text, "ledger.toml").expect_err(expected);
        check(&e.to_string(), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_that_one_line_before_any_request() {
    let api = crate::support::Api::start(|_| crate::support::Reply::status(500, "")).await;
    for (from, to, expected) in [&CASES[0], &CASES[5], &CASES[9], &CASES[11]] {
        let dir = tempfile::tempdir().unwrap();
        let defs = dir.path().join("ledger.toml");
        std::fs::write(&defs, VALID.replacen(from, to, 1)).unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(
            &config,
            serde_json::json!({"api_url": api.url, "books": ["b1"]}).to_string(),
        )
        .unwrap();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_tap-rest"))
                .arg("--definitions")
                .arg(&defs)
                .arg("--config")
                .arg(&config)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        let prefix = format!("tap-rest: error: {}/", dir.path().display());
        let rest = lines[0]
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{stderr}"));
        check(rest, expected);
    }
    assert!(api.requests().is_empty());
}
