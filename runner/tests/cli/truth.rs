//! "Equals the truth": a loaded database against the fake's `/_fake/truth`, stream by stream and
//! field by field. No truth key may be missing, no row may be one the truth lacks, and every
//! field the truth holds must be equal.

use std::collections::BTreeMap;

use fake_github::RunningFake;
use rusqlite::Connection;

/// A row as compared: its key and its fields (text, `None` for NULL), in a fixed order.
type Rows = BTreeMap<String, Vec<Option<String>>>;

/// What the truth says `stream` of `repos` holds.
fn expected(fake: &RunningFake, repos: &[&str], stream: &str) -> Rows {
    let mut rows = Rows::new();
    let s = |v: &str| Some(v.to_owned());
    let n = |v: u64| Some(v.to_string());
    for repo in repos {
        let t = fake.truth(repo).unwrap();
        match stream {
            "commits" => rows.extend(t.commits.iter().map(|c| {
                (
                    format!("{repo}|{}", c.sha),
                    vec![
                        s(&c.committer_date),
                        c.author_login.clone(),
                        s(&c.author_email),
                    ],
                )
            })),
            "issues" => rows.extend(t.issues.iter().map(|i| {
                (
                    i.id.to_string(),
                    vec![
                        n(u64::from(i.number)),
                        s(&i.state),
                        s(&i.created_at),
                        s(&i.updated_at),
                        i.closed_at.clone(),
                        s(&i.author_login),
                        n(u64::from(i.comments)),
                        n(u64::from(i.is_pr)),
                        i.merged_at.clone(),
                    ],
                )
            })),
            "pull_requests" => rows.extend(t.issues.iter().filter_map(|i| {
                Some((
                    i.pr_id?.to_string(),
                    vec![
                        n(u64::from(i.number)),
                        s(&i.state),
                        s(&i.created_at),
                        s(&i.updated_at),
                        i.closed_at.clone(),
                        i.merged_at.clone(),
                        s(&i.author_login),
                    ],
                ))
            })),
            "issue_comments" => rows.extend(t.comments.iter().map(|c| {
                (
                    c.id.to_string(),
                    vec![
                        n(u64::from(c.issue_number)),
                        s(&c.author_login),
                        s(&c.created_at),
                        s(&c.updated_at),
                    ],
                )
            })),
            "releases" => rows.extend(t.releases.iter().map(|r| {
                (
                    r.id.to_string(),
                    vec![s(&r.tag_name), s(&r.created_at), s(&r.published_at)],
                )
            })),
            "stargazers" => rows.extend(t.stargazers.iter().map(|g| {
                (
                    format!("{repo}|{}", g.user_id),
                    vec![s(&g.login), s(&g.starred_at)],
                )
            })),
            "contributors" => rows.extend(t.contributors.iter().map(|c| {
                (
                    format!("{repo}|{}", c.user_id),
                    vec![s(&c.login), n(u64::from(c.contributions))],
                )
            })),
            "pull_request_reviews" => rows.extend(t.reviews.iter().map(|r| {
                (
                    r.id.to_string(),
                    vec![
                        s(repo),
                        n(u64::from(r.pull_number)),
                        s(&r.user_login),
                        s(&r.state),
                        r.submitted_at.clone(),
                    ],
                )
            })),
            other => panic!("no truth for stream {other}"),
        }
    }
    rows
}

/// The key and compared columns of `stream`'s table, as SQL.
fn query(stream: &str) -> &'static str {
    match stream {
        "commits" => {
            "SELECT _sdc_repository || '|' || sha, commit__committer__date, author__login,
                    commit__author__email FROM commits"
        }
        "issues" => {
            "SELECT id, number, state, created_at, updated_at, closed_at, user__login, comments,
                    pull_request__url IS NOT NULL, pull_request__merged_at FROM issues"
        }
        "pull_requests" => {
            "SELECT id, number, state, created_at, updated_at, closed_at, merged_at, user__login
             FROM pull_requests"
        }
        "pull_request_reviews" => {
            "SELECT id, _sdc_repository, _sdc_pull_number, user__login, state, submitted_at
             FROM pull_request_reviews"
        }
        "issue_comments" => {
            "SELECT id, substr(issue_url, length(rtrim(issue_url, '0123456789')) + 1),
                    user__login, created_at, updated_at FROM issue_comments"
        }
        "releases" => {
            "SELECT id, tag_name, created_at, published_at FROM releases
             WHERE _sdc_deleted_at IS NULL"
        }
        "stargazers" => {
            "SELECT _sdc_repository || '|' || user_id, user__login, starred_at FROM stargazers
             WHERE _sdc_deleted_at IS NULL"
        }
        "contributors" => {
            "SELECT _sdc_repository || '|' || user_id, login, contributions FROM contributors
             WHERE _sdc_deleted_at IS NULL"
        }
        other => panic!("no query for stream {other}"),
    }
}

/// What the database holds for `stream`; a key seen twice is an error.
fn loaded(db: &Connection, stream: &str) -> Rows {
    let mut stmt = db
        .prepare(query(stream))
        .unwrap_or_else(|e| panic!("{stream}: {e}"));
    let width = stmt.column_count();
    let mut rows = Rows::new();
    let mut found = stmt.query([]).unwrap();
    while let Some(r) = found.next().unwrap() {
        let text = |i: usize| -> Option<String> {
            match r.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Some(String::from_utf8_lossy(t).into_owned())
                }
            }
        };
        let key = text(0).unwrap_or_default();
        let fields = (1..width).map(text).collect();
        assert!(
            rows.insert(key.clone(), fields).is_none(),
            "{stream}: key {key} twice"
        );
    }
    rows
}

/// Rows compared per stream, after asserting that `db` holds exactly the truth of `repos` for
/// each of `streams`.
pub fn assert_equals_truth(
    db: &Connection,
    fake: &RunningFake,
    repos: &[&str],
    streams: &[&str],
) -> usize {
    compare(&mut |stream| loaded(db, stream), fake, repos, streams)
}

/// [`assert_equals_truth`] for a PostgreSQL database (the tables in the connection's
/// `search_path`), its values read as text: `t`/`f` as 1/0, timestamps in UTC as RFC 3339.
pub fn assert_pg_equals_truth(
    db: &mut postgres::Client,
    fake: &RunningFake,
    repos: &[&str],
    streams: &[&str],
) -> usize {
    db.batch_execute("SET TIME ZONE 'UTC'").unwrap();
    compare(&mut |stream| loaded_pg(db, stream), fake, repos, streams)
}

/// What a PostgreSQL database holds for `stream`, as [`loaded`] reads SQLite.
fn loaded_pg(db: &mut postgres::Client, stream: &str) -> Rows {
    let text = |v: Option<&str>| {
        v.map(|v| match v {
            "t" => "1".to_owned(),
            "f" => "0".to_owned(),
            v if v.len() >= 22 && v.as_bytes()[10] == b' ' && v.ends_with("+00") => {
                format!("{}T{}Z", &v[..10], &v[11..v.len() - 3])
            }
            v => v.to_owned(),
        })
    };
    let mut rows = Rows::new();
    for message in db
        .simple_query(query(stream))
        .unwrap_or_else(|e| panic!("{stream}: {e}"))
    {
        if let postgres::SimpleQueryMessage::Row(r) = message {
            let key = text(r.get(0)).unwrap_or_default();
            let fields = (1..r.len()).map(|i| text(r.get(i))).collect();
            assert!(
                rows.insert(key.clone(), fields).is_none(),
                "{stream}: key {key} twice"
            );
        }
    }
    rows
}

fn compare(
    loaded: &mut dyn FnMut(&str) -> Rows,
    fake: &RunningFake,
    repos: &[&str],
    streams: &[&str],
) -> usize {
    let mut problems = Vec::new();
    let mut checked = 0;
    for stream in streams {
        let want = expected(fake, repos, stream);
        let have = loaded(stream);
        checked += want.len();
        let missing: Vec<&String> = want.keys().filter(|k| !have.contains_key(*k)).collect();
        let extra: Vec<&String> = have.keys().filter(|k| !want.contains_key(*k)).collect();
        let differ: Vec<String> = want
            .iter()
            .filter_map(|(k, w)| {
                let h = have.get(k)?;
                (h != w).then(|| format!("{k}: loaded {h:?}, truth {w:?}"))
            })
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{stream}: {} of {} truth keys missing, e.g. {:?}",
                missing.len(),
                want.len(),
                &missing[..missing.len().min(5)]
            ));
        }
        if !extra.is_empty() {
            problems.push(format!(
                "{stream}: {} rows the truth lacks, e.g. {:?}",
                extra.len(),
                &extra[..extra.len().min(5)]
            ));
        }
        if !differ.is_empty() {
            problems.push(format!(
                "{stream}: {} rows differ, e.g. {:?}",
                differ.len(),
                &differ[..differ.len().min(3)]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    checked
}

/// How many truth keys of `streams` the database lacks (for tests that show a loss).
pub fn missing_keys(db: &Connection, fake: &RunningFake, repos: &[&str], stream: &str) -> usize {
    let have = loaded(db, stream);
    expected(fake, repos, stream)
        .keys()
        .filter(|k| !have.contains_key(*k))
        .count()
}
