//! The shipped Jira connector (`connectors/jira.toml`) against fake-jira: a full extract equals
//! the fake's truth; an incremental run after mutations, in a time zone west of UTC, within the
//! bookmark's minute, equals it too; faults (5xx, 429 with Retry-After, churn between search
//! pages, eventual consistency) are caught up by the next run; wrong credentials are one line.
//! `cargo test -p tap-rest --test jira`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fake_jira::{FakeJira, FaultSpec, Mutation, RunningFake, Size, Truth};
use serde_json::{Value, json};
use tap_rest::Engine;
use tap_rest::engine::SyncOptions;

const EMAIL: &str = "ana@example.com";
const TOKEN: &str = "jira-t0ken";

/// A `Write` whose bytes the test reads afterwards.
#[derive(Clone, Default)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The shipped definitions, or `edit` of them.
fn engine(edit: impl Fn(&str) -> String) -> Engine {
    let carried = tap_rest::connector("jira").expect("jira is shipped");
    let text = edit(carried.definitions);
    tap_rest::connector::embedded("tap-jira", &text, carried.schemas).unwrap()
}

/// One run: the messages and the final state.
async fn run(engine: &Engine, url: &str, state: &singer::State) -> (Vec<Value>, singer::State) {
    run_with(engine, json!({"base_url": url}), state).await
}

/// One run with `config` (the credentials added).
async fn run_with(
    engine: &Engine,
    mut config: Value,
    state: &singer::State,
) -> (Vec<Value>, singer::State) {
    config["email"] = json!(EMAIL);
    config["api_token"] = json!(TOKEN);
    let config = tap_rest::config::check(&engine.defs, &config).unwrap_or_else(|e| panic!("{e}"));
    let mut http = config.http_options(&engine.defs);
    http.backoff_base = Duration::from_millis(1);
    let mut engine = engine.clone();
    engine
        .prepare(&config.values, http.clone(), config.secrets.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = SyncOptions {
        http,
        settings: config.values.clone(),
        secrets: config.secrets.clone(),
        start_date: config.start_date(),
        lookback: config.lookback(),
        max_concurrency: config.max_concurrency(),
        catalog: None,
        state: state.clone(),
    };
    let sink = Sink::default();
    let summary = engine
        .sync(opts, sink.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let messages = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (messages, summary.state)
}

fn records<'m>(messages: &'m [Value], stream: &str) -> Vec<&'m Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}

/// The primary key of each stream.
const KEYS: [(&str, &str); 6] = [
    ("issues", "id"),
    ("issue_comments", "id"),
    ("issue_worklogs", "id"),
    ("projects", "id"),
    ("users", "accountId"),
    ("fields", "id"),
];

/// What a target holds after the runs: each stream's rows by key, later records replacing
/// earlier ones.
fn table(runs: &[&[Value]]) -> BTreeMap<&'static str, BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for (stream, key) in KEYS {
        let rows: &mut BTreeMap<String, Value> = out.entry(stream).or_default();
        for messages in runs {
            for r in records(messages, stream) {
                rows.insert(r[key].as_str().unwrap().to_owned(), r.clone());
            }
        }
    }
    out
}

/// The truth as the same tables: issues whole (custom fields included), comments with the
/// `issueId` the connector adds (and without the truth's `issueKey`), the rest as served.
fn expected(truth: &Truth) -> BTreeMap<&'static str, BTreeMap<String, Value>> {
    let by = |items: &[Value], key: &str| -> BTreeMap<String, Value> {
        items
            .iter()
            .map(|v| (v[key].as_str().unwrap().to_owned(), v.clone()))
            .collect()
    };
    let ids: BTreeMap<&str, &str> = truth
        .issues
        .iter()
        .map(|i| (i["key"].as_str().unwrap(), i["id"].as_str().unwrap()))
        .collect();
    let comments: Vec<Value> = truth
        .comments
        .iter()
        .map(|c| {
            let mut c = c.clone();
            let key = c.as_object_mut().unwrap().remove("issueKey").unwrap();
            c["issueId"] = json!(ids[key.as_str().unwrap()]);
            c
        })
        .collect();
    BTreeMap::from([
        ("issues", by(&truth.issues, "id")),
        ("issue_comments", by(&comments, "id")),
        ("issue_worklogs", by(&truth.worklogs, "id")),
        ("projects", by(&truth.projects, "id")),
        ("users", by(&truth.users, "accountId")),
        ("fields", by(&truth.fields, "id")),
    ])
}

/// Field by field, so that a difference names the stream, the row and the field.
fn assert_tables_equal(
    got: &BTreeMap<&'static str, BTreeMap<String, Value>>,
    want: &BTreeMap<&'static str, BTreeMap<String, Value>>,
) {
    for (stream, rows) in want {
        let have = &got[stream];
        let missing: Vec<&String> = rows.keys().filter(|k| !have.contains_key(*k)).collect();
        let extra: Vec<&String> = have.keys().filter(|k| !rows.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{stream}: rows missing: {missing:?}");
        assert!(
            extra.is_empty(),
            "{stream}: rows not in the truth: {extra:?}"
        );
        for (key, row) in rows {
            for (field, value) in row.as_object().unwrap() {
                if field == "fields" {
                    for (f, v) in value.as_object().unwrap() {
                        assert_eq!(&have[key]["fields"][f], v, "{stream} {key}: fields.{f}");
                    }
                }
                assert_eq!(&have[key][field], value, "{stream} {key}: {field}");
            }
        }
    }
}

/// No key written twice by one run's stream, except issues read again by the lookback or
/// after a change during the run (`allowed`).
fn duplicates(messages: &[Value], stream: &str, key: &str) -> Vec<String> {
    let mut seen = BTreeMap::new();
    for r in records(messages, stream) {
        *seen.entry(r[key].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k)
        .collect()
}

async fn fake(builder: fake_jira::Builder) -> RunningFake {
    builder.credentials(EMAIL, TOKEN).start().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_extract_equals_the_truth_custom_fields_included() {
    let fake = fake(FakeJira::builder().seed(3)).await;
    let engine = engine(str::to_owned);
    let (messages, state) = run(&engine, &fake.api_url(), &singer::State::default()).await;
    let truth = fake.truth();
    assert_eq!(truth.issues.len(), 120);
    assert_tables_equal(&table(&[&messages]), &expected(&truth));
    for (stream, key) in KEYS {
        assert_eq!(
            duplicates(&messages, stream, key),
            Vec::<String>::new(),
            "{stream}"
        );
    }
    // Custom fields are typed in the issues schema, from /field.
    let schema = messages
        .iter()
        .find(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
        .unwrap();
    let fields = &schema["schema"]["properties"]["fields"]["properties"];
    assert_eq!(
        fields["customfield_10001"]["type"],
        json!(["null", "number"])
    );
    assert_eq!(
        fields["customfield_10002"]["type"],
        json!(["null", "object"])
    );
    // Issues by the JQL search only, never the removed /search; the time zone once.
    let stats = fake.stats();
    assert_eq!(stats.requests_to("/rest/api/3/search"), 0);
    assert_eq!(stats.requests_to("/rest/api/3/search/jql"), 2);
    assert_eq!(stats.requests_to("/rest/api/3/myself"), 1);
    // Every issue embeds all its comments and worklogs: none is asked per issue.
    let per_issue: Vec<&String> = stats
        .by_path
        .keys()
        .filter(|p| p.contains("/issue/"))
        .collect();
    assert!(per_issue.is_empty(), "{per_issue:?}");
    let bookmark =
        &state.to_value()["bookmarks"]["issues"]["partitions"][0]["replication_key_value"];
    let newest = truth
        .issues
        .iter()
        .map(|i| i["fields"]["updated"].clone())
        .max_by(|a, b| {
            tap_rest::time::parse(a.as_str().unwrap())
                .cmp(&tap_rest::time::parse(b.as_str().unwrap()))
        })
        .unwrap();
    assert_eq!(bookmark, &newest);
}

/// The JQL `updated` lower bound of each issue search.
fn since_of_searches(fake: &RunningFake) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|l| l.starts_with("GET /rest/api/3/search/jql?") && !l.contains("nextPageToken"))
        .map(|l| {
            let query = l.split_once('?').unwrap().1.split(' ').next().unwrap();
            let jql = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("jql="))
                .unwrap();
            let jql = jql
                .replace('+', " ")
                .replace("%22", "\"")
                .replace("%2F", "/")
                .replace("%3A", ":")
                .replace("%3E", ">")
                .replace("%3D", "=");
            jql.split('"').nth(1).unwrap().to_owned()
        })
        .collect()
}

/// Changes to the fake, all dated within seconds of the newest update (the bookmark).
fn mutations(truth: &Truth) -> Vec<Mutation> {
    let key = |n: usize| truth.issues[n]["key"].as_str().unwrap().to_owned();
    let commented = truth
        .comments
        .first()
        .map(|c| c["issueKey"].as_str().unwrap().to_owned())
        .unwrap();
    vec![
        Mutation::CreateIssue {
            project: "BETA".into(),
        },
        Mutation::UpdateIssue { key: key(3) },
        Mutation::AddComment { key: key(10) },
        Mutation::EditComment { key: commented },
        Mutation::AddWorklog { key: key(20) },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_west_of_utc_within_the_bookmarks_minute_reaches_the_truth() {
    let fake = fake(FakeJira::builder().seed(5).time_zone("America/Los_Angeles")).await;
    let engine = engine(str::to_owned);
    let (first, state) = run(&engine, &fake.api_url(), &singer::State::default()).await;
    let before = fake.truth();
    for m in mutations(&before) {
        fake.mutate(&m).unwrap();
    }
    // More comments and worklogs than an issue embeds (20): those lists are paged.
    let (chatty, busy) = (&before.issues[30], &before.issues[31]);
    for _ in 0..25 {
        let key = chatty["key"].as_str().unwrap().to_owned();
        fake.mutate(&Mutation::AddComment { key }).unwrap();
    }
    for _ in 0..22 {
        let key = busy["key"].as_str().unwrap().to_owned();
        fake.mutate(&Mutation::AddWorklog { key }).unwrap();
    }
    let asked_before = fake.requests().len();
    let (second, _) = run(&engine, &fake.api_url(), &state).await;
    let mut per_issue: Vec<String> = fake.requests()[asked_before..]
        .iter()
        .filter(|l| l.contains("/issue/"))
        .map(|l| l.split('?').next().unwrap().to_owned())
        .collect();
    per_issue.sort_by_key(|l| l.ends_with("worklog"));
    assert_eq!(
        per_issue,
        [
            format!(
                "GET /rest/api/3/issue/{}/comment",
                chatty["id"].as_str().unwrap()
            ),
            format!(
                "GET /rest/api/3/issue/{}/worklog",
                busy["id"].as_str().unwrap()
            ),
        ]
    );
    let truth = fake.truth();
    assert_tables_equal(&table(&[&first, &second]), &expected(&truth));
    for (stream, key) in KEYS {
        assert_eq!(
            duplicates(&second, stream, key),
            Vec::<String>::new(),
            "{stream}"
        );
    }
    // The second run read the changed issues, and asked from the bookmark minus the lookback,
    // written in the account's zone (PST, UTC−8), to the minute.
    let changed: Vec<String> = truth
        .issues
        .iter()
        .filter(|i| !before.issues.contains(i))
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(changed.len(), 7, "{changed:?}");
    let mark = tap_rest::time::parse(
        state.to_value()["bookmarks"]["issues"]["partitions"][0]["replication_key_value"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    for i in truth.issues.iter().filter(|i| !before.issues.contains(i)) {
        let at = tap_rest::time::parse(i["fields"]["updated"].as_str().unwrap()).unwrap();
        assert!(
            at > mark && at.duration_since(mark) < jiff::SignedDuration::from_secs(60),
            "{at} vs {mark}"
        );
    }
    let read: Vec<&str> = records(&second, "issues")
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in &changed {
        assert!(read.contains(&id.as_str()), "issue {id} not read again");
    }
    let bookmark =
        state.to_value()["bookmarks"]["issues"]["partitions"][0]["replication_key_value"]
            .as_str()
            .unwrap()
            .to_owned();
    let at = tap_rest::time::parse(&bookmark).unwrap() - jiff::SignedDuration::from_hours(1);
    let local = at
        .to_zoned_datetime(jiff::tz::TimeZone::get("America/Los_Angeles").unwrap())
        .strftime("%Y/%m/%d %H:%M")
        .to_string();
    // The first run: from the initial since value, 1970-01-01T00:00Z, in Los Angeles.
    assert_eq!(
        since_of_searches(&fake),
        ["1969/12/31 16:00".to_owned(), local]
    );

    // The same definitions writing the bookmark's UTC wall-clock time into the JQL read it as
    // Los Angeles time, eight hours late, and miss every change since the first run.
    let utc_fake = fake_jira_same_as(5).await;
    let utc = engine_in_utc();
    let (first, state) = run(&utc, &utc_fake.api_url(), &singer::State::default()).await;
    for m in mutations(&utc_fake.truth()) {
        utc_fake.mutate(&m).unwrap();
    }
    let (second, _) = run(&utc, &utc_fake.api_url(), &state).await;
    assert!(
        records(&second, "issues").is_empty(),
        "UTC wall clock read as local time misses them"
    );
    let got = table(&[&first, &second]);
    assert_ne!(got["issues"].len(), utc_fake.truth().issues.len());
}

async fn fake_jira_same_as(seed: u64) -> RunningFake {
    fake(
        FakeJira::builder()
            .seed(seed)
            .time_zone("America/Los_Angeles"),
    )
    .await
}

fn engine_in_utc() -> Engine {
    engine(|t| {
        t.replace(
            ", timezone = { request = { path = \"/rest/api/3/myself\", pointer = \"/timeZone\" } }",
            "",
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_eventual_consistency_are_caught_up_by_the_next_run() {
    let faults: FaultSpec =
        "http500:every=5,http503:every=7,throttle:every=3:retry=1:times=2,churn:every=1"
            .parse()
            .unwrap();
    let fake = fake(
        FakeJira::builder()
            .seed(9)
            .size(Size {
                projects: 4,
                issues: 330,
                users: 120,
            })
            .faults(faults),
    )
    .await;
    let engine = engine(str::to_owned);
    let started = Instant::now();
    let (first, state) = run(&engine, &fake.api_url(), &singer::State::default()).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "a 429 with Retry-After: 1 waits a second (two in flight may wait together)"
    );
    let stats = fake.stats();
    for kind in ["http500", "http503", "churn"] {
        assert!(
            stats.faults.get(kind).copied().unwrap_or(0) > 0,
            "{kind}: {:?}",
            stats.faults
        );
    }
    assert_eq!(stats.faults.get("throttle"), Some(&2));
    // Churn moved issues past the pages read: the first run read them again, the truth has
    // them as changed.
    assert_tables_equal(&table(&[&first]), &expected(&fake.truth()));

    // An update reaches search late, after one made two minutes later: the run in between sees
    // the later one only and bookmarks it; the next run still reads the late one (lookback).
    let truth = fake.truth();
    let late = truth.issues[40]["key"].as_str().unwrap().to_owned();
    let soon = truth.issues[41]["key"].as_str().unwrap().to_owned();
    fake.world()
        .mutate_with_lag(
            &Mutation::UpdateIssue { key: late.clone() },
            Duration::from_millis(400),
        )
        .unwrap();
    fake.world().advance_clock(Duration::from_secs(120));
    fake.world()
        .mutate_with_lag(&Mutation::UpdateIssue { key: soon.clone() }, Duration::ZERO)
        .unwrap();
    let (between, state) = run(&engine, &fake.api_url(), &state).await;
    let keys = |m: &[Value]| -> Vec<String> {
        records(m, "issues")
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(keys(&between).contains(&soon));
    let stale = records(&between, "issues")
        .into_iter()
        .filter(|r| r["key"] == late.as_str())
        .all(|r| r["fields"]["summary"] == truth.issues[40]["fields"]["summary"]);
    assert!(stale, "the late update is not visible yet");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (after, _) = run(&engine, &fake.api_url(), &state).await;
    assert!(keys(&after).contains(&late));
    assert_tables_equal(
        &table(&[&first, &between, &after]),
        &expected(&fake.truth()),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projects_setting_restricts_the_issues_read() {
    let fake = fake(FakeJira::builder().seed(2)).await;
    let engine = engine(str::to_owned);
    let config = json!({"base_url": fake.api_url(), "projects": "project in (ALPHA, gamma)"});
    let (messages, _) = run_with(&engine, config, &singer::State::default()).await;
    let keys: Vec<&str> = records(&messages, "issues")
        .iter()
        .map(|r| r["fields"]["project"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 80);
    assert!(
        keys.iter().all(|k| ["ALPHA", "GAMMA"].contains(k)),
        "{keys:?}"
    );
}

/// `tap-rest check` asks each stream once (the issues from the initial since value, there being
/// neither bookmark nor start date) and finds every field fake-jira answers declared.
#[test]
fn check_finds_every_stream_ok() {
    let fake = RunningFake::start_blocking(FakeJira::builder().credentials(EMAIL, TOKEN)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"base_url": fake.api_url(), "email": EMAIL, "api_token": TOKEN}).to_string(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tap-rest"))
        .args(["check", "--definitions", "jira", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(report.ends_with("6 streams checked: all ok\n"), "{report}");

    // With a start date, the JQL date is written as a run writes it: in the account's zone
    // (America/Los_Angeles, UTC-8 in March 2025).
    std::fs::write(
        &config,
        json!({"base_url": fake.api_url(), "email": EMAIL, "api_token": TOKEN,
               "start_date": "2025-03-02T10:00:00Z"})
        .to_string(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tap-rest"))
        .args([
            "check",
            "--definitions",
            "jira",
            "--stream",
            "issues",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    let searched: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("/search/jql"))
        .collect();
    assert!(
        searched
            .last()
            .is_some_and(|r| r.contains("%222025%2F03%2F02+02%3A00%22")),
        "{searched:?}"
    );
}

#[test]
fn wrong_credentials_are_one_line_and_a_failure() {
    let fake = RunningFake::start_blocking(FakeJira::builder().credentials(EMAIL, TOKEN)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"base_url": fake.api_url(), "email": EMAIL, "api_token": "wrong"}).to_string(),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("tap-rest")
        .unwrap()
        .args(["--definitions", "jira", "--config"])
        .arg(&config)
        .env_remove("JIRA_API_TOKEN")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("401"), "{stderr}");
    assert!(
        !stderr.contains("wrong"),
        "the token is not printed: {stderr}"
    );
    assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("RECORD"));
}

/// Every `.rs` file under `dir`.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_engine_holds_no_jira_names() {
    let mut files = Vec::new();
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap().to_lowercase();
        for name in ["jira", "atlassian"] {
            assert!(
                !text.contains(name),
                "{} names {name}: Jira's conventions belong in connectors/jira.toml",
                file.display()
            );
        }
    }
}
