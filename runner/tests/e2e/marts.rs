//! The marts as dbt built them, read from `main_dbt.db`, and comparisons that name each
//! differing row.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::Path;

/// (repo, month or user).
pub type Key = (String, String);

/// What the checks compare: each mart keyed by (repo, month) or (repo, user).
#[derive(Debug, Default)]
pub struct Marts {
    /// (repo, staging model) → rows.
    pub staged_counts: BTreeMap<Key, i64>,
    /// Every column but the key.
    pub commits_by_month: BTreeMap<Key, CommitsByMonth>,
    /// Every column but the key.
    pub commits_by_user: BTreeMap<Key, CommitsByUser>,
    /// → [issues opened, issues closed, PRs opened, PRs merged].
    pub issues_by_month: BTreeMap<Key, [i64; 4]>,
    /// → [issues opened, PRs opened, PRs merged, comments written].
    pub issues_by_user: BTreeMap<Key, [i64; 4]>,
    /// Every column but the key.
    pub issue_resolution: BTreeMap<Key, Resolution>,
}

/// A row of `commits_by_month`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CommitsByMonth {
    pub commits: i64,
    pub distinct_authors: i64,
    pub merge_commits: i64,
    pub first_commit_at: String,
    pub last_commit_at: String,
}

/// A row of `commits_by_user`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CommitsByUser {
    pub is_github_account: bool,
    pub commits: i64,
    pub first_commit_at: String,
    pub last_commit_at: String,
    pub active_months: i64,
}

/// A row of `issue_resolution_by_month`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Resolution {
    pub issues_closed: i64,
    pub median_hours_to_close: f64,
    pub mean_hours_to_close: f64,
    pub max_hours_to_close: f64,
}

/// The staging models whose row counts the truth knows.
pub const STAGING: [&str; 8] = [
    "stg_commits",
    "stg_issues",
    "stg_pull_requests",
    "stg_issue_comments",
    "stg_releases",
    "stg_stargazers",
    "stg_contributors",
    "stg_repositories",
];

impl Marts {
    /// Reads every mart from dbt's schema file (tables, so readable on their own).
    pub fn read(db: &Path) -> Marts {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap_or_else(|e| panic!("opening {}: {e}", db.display()));
        let mut m = Marts::default();
        for model in STAGING {
            let sql = format!("select repo, count(*) from {model} group by repo");
            for (repo, n) in rows(&conn, &sql, |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            }) {
                m.staged_counts.insert((repo, model.to_string()), n);
            }
        }
        m.commits_by_month = rows(
            &conn,
            "select repo, month, commits, distinct_authors, merge_commits, first_commit_at, \
             last_commit_at from commits_by_month",
            |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    CommitsByMonth {
                        commits: r.get(2)?,
                        distinct_authors: r.get(3)?,
                        merge_commits: r.get(4)?,
                        first_commit_at: r.get(5)?,
                        last_commit_at: r.get(6)?,
                    },
                ))
            },
        )
        .into_iter()
        .collect();
        m.commits_by_user = rows(
            &conn,
            "select repo, user_login, is_github_account, commits, first_commit_at, last_commit_at, \
             active_months from commits_by_user",
            |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    CommitsByUser {
                        is_github_account: r.get::<_, i64>(2)? == 1,
                        commits: r.get(3)?,
                        first_commit_at: r.get(4)?,
                        last_commit_at: r.get(5)?,
                        active_months: r.get(6)?,
                    },
                ))
            },
        )
        .into_iter()
        .collect();
        m.issues_by_month = rows(
            &conn,
            "select repo, month, issues_opened, issues_closed, prs_opened, prs_merged from issues_by_month",
            |r| Ok(((r.get(0)?, r.get(1)?), [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?])),
        )
        .into_iter()
        .collect();
        m.issues_by_user = rows(
            &conn,
            "select repo, user_login, issues_opened, prs_opened, prs_merged, comments_written from issues_by_user",
            |r| Ok(((r.get(0)?, r.get(1)?), [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?])),
        )
        .into_iter()
        .collect();
        m.issue_resolution = rows(
            &conn,
            "select repo, month, issues_closed, median_hours_to_close, mean_hours_to_close, \
             max_hours_to_close from issue_resolution_by_month",
            |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    Resolution {
                        issues_closed: r.get(2)?,
                        median_hours_to_close: r.get(3)?,
                        mean_hours_to_close: r.get(4)?,
                        max_hours_to_close: r.get(5)?,
                    },
                ))
            },
        )
        .into_iter()
        .collect();
        m
    }
}

fn rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map([], f)
        .unwrap()
        .collect::<rusqlite::Result<Vec<T>>>()
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Panics listing every key that is missing, extra or different (at most 25 of them).
pub fn assert_same<K: Debug + Ord, V: Debug + PartialEq>(
    what: &str,
    want: &BTreeMap<K, V>,
    got: &BTreeMap<K, V>,
) {
    assert_by(what, want, got, |a, b| a == b);
}

/// Like [`assert_same`] for issue resolution: counts equal, hours within 0.011 (both sides are
/// rounded to 0.01 h, from slightly different float arithmetic).
pub fn assert_close(what: &str, want: &BTreeMap<Key, Resolution>, got: &BTreeMap<Key, Resolution>) {
    let near = |a: f64, b: f64| (a - b).abs() <= 0.011;
    assert_by(what, want, got, |a, b| {
        a.issues_closed == b.issues_closed
            && near(a.median_hours_to_close, b.median_hours_to_close)
            && near(a.mean_hours_to_close, b.mean_hours_to_close)
            && near(a.max_hours_to_close, b.max_hours_to_close)
    });
}

fn assert_by<K: Debug + Ord, V: Debug>(
    what: &str,
    want: &BTreeMap<K, V>,
    got: &BTreeMap<K, V>,
    same: impl Fn(&V, &V) -> bool,
) {
    let mut problems = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => problems.push(format!("missing {k:?}: want {w:?}")),
            Some(g) if !same(w, g) => problems.push(format!("{k:?}: want {w:?}, got {g:?}")),
            Some(_) => {}
        }
    }
    for (k, g) in got {
        if !want.contains_key(k) {
            problems.push(format!("unexpected {k:?}: {g:?}"));
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(25);
        panic!(
            "{what}: {n} rows differ from the truth ({} expected, {} in the mart):\n  {}",
            want.len(),
            got.len(),
            problems.join("\n  ")
        );
    }
}
