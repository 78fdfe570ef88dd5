//! The shipped GitLab connector (`tap-rest --definitions gitlab`) against fake-gitlab: a full
//! run, an incremental run after changes, faults, a wrong token and a missing project, each
//! checked against the fake's ground truth.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use fake_gitlab::{FakeGitlab, FaultSpec, Mutation, ProjectSize, RunningFake, Truth};
use serde_json::{Value, json};

const APP: &str = "acme/tools/app";
const WEB: &str = "acme/web";
const TOKEN: &str = "glpat-test";

/// Streams and the fields of their keys, as the connector declares them.
const STREAMS: [(&str, &[&str]); 7] = [
    ("projects", &["id"]),
    ("commits", &["_sdc_project", "id"]),
    ("issues", &["id"]),
    ("merge_requests", &["id"]),
    ("issue_notes", &["id"]),
    ("merge_request_notes", &["id"]),
    ("releases", &["_sdc_project", "tag_name"]),
];

fn fake(faults: Option<&str>) -> RunningFake {
    fake_with(faults, false)
}

fn fake_with(faults: Option<&str>, ratelimit_headers: bool) -> RunningFake {
    let mut b = FakeGitlab::builder()
        .ratelimit_headers_always(ratelimit_headers)
        .seed(3)
        .token(TOKEN)
        // 130 issues: two pages of 100.
        .project(APP, ProjectSize::new(260, 130, 45))
        .project(WEB, ProjectSize::new(30, 6, 4));
    if let Some(f) = faults {
        b = b.faults(f.parse::<FaultSpec>().expect("fault spec"));
    }
    b.start().expect("fake-gitlab starts")
}

struct Run {
    messages: Vec<Value>,
    stderr: String,
    ok: bool,
}

impl Run {
    fn records(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .map(|m| &m["record"])
            .collect()
    }

    fn state(&self) -> Value {
        self.messages
            .iter()
            .rev()
            .find(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone())
            .expect("a STATE message")
    }
}

fn run(dir: &Path, config: Value, state: Option<&Value>) -> Run {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config.to_string()).expect("config written");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tap-rest"));
    cmd.args(["--definitions", "gitlab", "--config"]).arg(&cfg);
    if let Some(s) = state {
        let path = dir.join("state.json");
        std::fs::write(&path, s.to_string()).expect("state written");
        cmd.arg("--state").arg(path);
    }
    let out = cmd
        .env_remove("GITLAB_TOKEN")
        .env_remove("GITLAB_OAUTH_TOKEN")
        .output()
        .expect("tap-rest runs");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    Run {
        messages: stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    }
}

fn config(fake: &RunningFake, token: &str) -> Value {
    json!({ "api_url": fake.api_url(), "groups": ["acme"], "private_token": token })
}

fn key(record: &Value, fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| record[*f].to_string())
        .collect::<Vec<_>>()
        .join("|")
}

/// The truth of every project as (stream → key → item), items carrying `_sdc_project`.
fn truth(fake: &RunningFake) -> BTreeMap<&'static str, BTreeMap<String, Value>> {
    let mut out: BTreeMap<&'static str, BTreeMap<String, Value>> = BTreeMap::new();
    for project in [APP, WEB] {
        let t: Truth = fake.truth(project).expect("a project");
        let lists: [(&str, Vec<Value>); 7] = [
            ("projects", vec![t.project]),
            ("commits", t.commits),
            ("issues", t.issues),
            ("merge_requests", t.merge_requests),
            ("issue_notes", t.issue_notes),
            ("merge_request_notes", t.merge_request_notes),
            ("releases", t.releases),
        ];
        for (stream, items) in lists {
            let fields = STREAMS.iter().find(|(s, _)| *s == stream).expect("known").1;
            for mut item in items {
                item["_sdc_project"] = json!(project);
                out.entry(stream)
                    .or_default()
                    .insert(key(&item, fields), item);
            }
        }
    }
    out
}

/// The fields a stream's schema declares.
fn schema_fields(stream: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/gitlab")
        .join(format!("{stream}.json"));
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
    schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect()
}

/// Every stream's records, upserted by key over the runs in order, equal the truth field by
/// field (every schema field the truth has).
fn assert_truth(fake: &RunningFake, runs: &[&Run]) {
    let truth = truth(fake);
    for (stream, fields) in STREAMS {
        let mut got: BTreeMap<String, &Value> = BTreeMap::new();
        for r in runs {
            for rec in r.records(stream) {
                got.insert(key(rec, fields), rec);
            }
        }
        let want = &truth[stream];
        let (g, w): (BTreeSet<_>, BTreeSet<_>) = (got.keys().collect(), want.keys().collect());
        assert_eq!(g, w, "{stream}: keys differ");
        for field in schema_fields(stream) {
            for (k, item) in want {
                if let Some(v) = item.get(&field) {
                    assert_eq!(&got[k][&field], v, "{stream} {k}: field {field}");
                }
            }
        }
    }
}

fn assert_unique(run: &Run) {
    for (stream, fields) in STREAMS {
        let recs = run.records(stream);
        let keys: BTreeSet<String> = recs.iter().map(|r| key(r, fields)).collect();
        assert_eq!(keys.len(), recs.len(), "{stream}: a key is emitted twice");
    }
}

#[test]
fn a_full_run_is_the_truth() {
    let fake = fake(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(dir.path(), config(&fake, TOKEN), None);
    assert!(r.ok, "{}", r.stderr);
    assert_unique(&r);
    assert_truth(&fake, &[&r]);
}

/// A self-managed instance may send `RateLimit-*` on every answer: plenty remaining, no pause.
#[test]
fn rate_limit_headers_on_every_answer_change_nothing() {
    let fake = fake_with(None, true);
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(dir.path(), config(&fake, TOKEN), None);
    assert!(r.ok, "{}", r.stderr);
    assert!(!r.stderr.contains("pausing"), "{}", r.stderr);
    assert_truth(&fake, &[&r]);
}

#[test]
fn an_incremental_run_after_changes_completes_the_truth() {
    let fake = fake(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let first = run(dir.path(), config(&fake, TOKEN), None);
    assert!(first.ok, "{}", first.stderr);
    for m in [
        Mutation::NewIssue,
        Mutation::UpdateIssue { iid: 3 },
        Mutation::NoteOnIssue { iid: 7 },
        Mutation::NewMergeRequest,
        Mutation::UpdateMergeRequest { iid: 2 },
        Mutation::NoteOnMergeRequest { iid: 5 },
        Mutation::Push { commits: 3 },
        Mutation::NewRelease,
    ] {
        fake.mutate(APP, m).expect("mutation");
    }
    fake.mutate(WEB, Mutation::NoteOnIssue { iid: 1 })
        .expect("mutation");
    fake.world().reset_stats();
    let second = run(dir.path(), config(&fake, TOKEN), Some(&first.state()));
    assert!(second.ok, "{}", second.stderr);
    assert_unique(&second);
    assert_truth(&fake, &[&first, &second]);
    // Notes are read again only for the issues and merge requests that changed.
    let issues: BTreeSet<_> = second
        .records("issues")
        .iter()
        .map(|r| r["iid"].to_string())
        .collect();
    let stats = fake.stats();
    let note_requests = stats
        .by_path
        .iter()
        .filter(|(p, _)| p.ends_with("/notes"))
        .count();
    let parents = issues.len() + second.records("merge_requests").len();
    assert!(
        issues.len() >= 3,
        "new, updated and noted issues: {issues:?}"
    );
    assert_eq!(note_requests, parents, "{:?}", stats.by_path);
    assert!(
        parents < 12,
        "only changed parents are read again: {parents}"
    );
}

#[test]
fn faults_and_churn_between_pages_still_give_the_truth() {
    let fake = fake(Some(
        "http500:every=9:budget=6,http502:every=13:budget=3,ratelimit:every=17:budget=2,churn:every=1:budget=3",
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(dir.path(), config(&fake, TOKEN), None);
    assert!(r.ok, "{}", r.stderr);
    let faults = fake.stats().faults;
    assert_eq!(faults.get("churn"), Some(&3), "{faults:?}");
    assert_eq!(faults.get("ratelimit"), Some(&2), "{faults:?}");
    assert_eq!(faults.get("http500"), Some(&6), "{faults:?}");
    // An item updated while the run reads it may be emitted again, newer: no uniqueness here.
    assert_truth(&fake, &[&r]);
}

/// An OAuth token goes as `Authorization: Bearer` (no private token at all).
#[test]
fn an_oauth_token_is_sent_as_a_bearer() {
    let fake = fake(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(&fake, "");
    cfg["oauth_token"] = json!(TOKEN);
    let r = run(dir.path(), cfg, None);
    assert!(r.ok, "{}", r.stderr);
    assert_truth(&fake, &[&r]);
}

#[test]
fn a_wrong_token_is_one_line_and_a_failure() {
    let fake = fake(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(dir.path(), config(&fake, "wrong"), None);
    assert!(!r.ok, "a wrong token must fail");
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(last.contains("401"), "{}", r.stderr);
    assert!(!last.contains("wrong"), "the token is not printed: {last}");
    assert!(
        r.messages.iter().all(|m| m["type"] != "RECORD"),
        "no records"
    );
}

/// A project the user named that does not exist: every other project is extracted, then the
/// run fails naming it (a project found through a group and gone is only a warning).
#[test]
fn a_missing_project_fails_the_run_after_the_others() {
    let fake = fake(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = json!({ "api_url": fake.api_url(), "projects": [WEB, "acme/nope"], "private_token": TOKEN });
    let r = run(dir.path(), cfg, None);
    assert!(!r.ok, "a missing project must fail the run");
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(last.contains("acme/nope"), "{}", r.stderr);
    let issues = r.records("issues");
    assert_eq!(issues.len(), 6, "acme/web is extracted whole");
    assert!(issues.iter().all(|i| i["_sdc_project"] == WEB));
}

/// `tap-rest check` finds every field fake-gitlab answers declared in the schemas.
#[test]
fn check_finds_the_schemas_complete() {
    let fake = fake(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("config.json");
    std::fs::write(&cfg, config(&fake, TOKEN).to_string()).expect("config written");
    let out = Command::new(env!("CARGO_BIN_EXE_tap-rest"))
        .args(["check", "--definitions", "gitlab", "--config"])
        .arg(&cfg)
        .output()
        .expect("tap-rest check runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert_eq!(
        report.matches("\nok\n").count() + usize::from(report.starts_with("ok\n")),
        7,
        "{report}"
    );
}

/// A group of more projects than a page lists them by keyset (`id_after` in the next link):
/// offset pages of projects end at an offset of 50,000.
#[test]
fn a_large_group_is_listed_by_keyset_pages() {
    let mut b = FakeGitlab::builder().seed(5).token(TOKEN);
    for i in 0..130 {
        b = b.project(format!("acme/p{i:03}"), ProjectSize::new(1, 0, 0));
    }
    let fake = b.start().expect("fake-gitlab starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(dir.path(), config(&fake, TOKEN), None);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.records("projects").len(), 130);
    let listed: Vec<String> = fake
        .stats()
        .log
        .into_iter()
        .filter(|l| l.contains("/groups/acme/projects"))
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed.iter().all(|l| l.contains("pagination=keyset")) && listed[1].contains("id_after="),
        "{listed:?}"
    );
}
