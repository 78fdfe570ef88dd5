//! What the report shows, read from the marts dbt built (`main_dbt`, attached beside the raw
//! database): one struct per chart, months filled in so that a quiet month is a zero.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// Failures reading the marts.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The marts database does not exist yet.
    #[error("no marts at {0}: run the pipeline with dbt first (`tapline run`)")]
    NoMarts(String),
    /// SQLite refused a query, e.g. a mart is missing.
    #[error("reading the marts from {db}: {source}")]
    Sql {
        /// The marts database.
        db: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

/// Numbers per repository (or series) and month; missing months are absent.
pub type Grid<T> = BTreeMap<String, BTreeMap<String, T>>;

/// Everything the report draws.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReportData {
    /// Every month from the first to the last that any mart mentions, `YYYY-MM`.
    pub months: Vec<String>,
    /// Repository → month → commits.
    pub commits: Grid<i64>,
    /// The authors with the most commits over all repositories, most first (ties by name).
    pub top_committers: Vec<(String, i64)>,
    /// Month → [issues opened, issues closed, pull requests merged], over all repositories.
    pub flow: BTreeMap<String, [i64; 3]>,
    /// Repository → month of closing → median hours from opening to closing (plain issues).
    pub median_hours: Grid<f64>,
}

/// How many committers the report lists.
pub const TOP_COMMITTERS: usize = 10;

impl ReportData {
    /// Reads the marts from `marts_db` (dbt-sqlite's `main_dbt.db`).
    pub fn read(marts_db: &Path) -> Result<ReportData, QueryError> {
        if !marts_db.is_file() {
            return Err(QueryError::NoMarts(marts_db.display().to_string()));
        }
        let sql_err = |source| QueryError::Sql {
            db: marts_db.display().to_string(),
            source,
        };
        let conn = Connection::open_with_flags(marts_db, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql_err)?;
        read_from(&conn).map_err(sql_err)
    }
}

fn read_from(conn: &Connection) -> rusqlite::Result<ReportData> {
    let mut data = ReportData::default();
    for (repo, month, n) in rows3::<i64>(conn, "select repo, month, commits from commits_by_month")?
    {
        data.commits.entry(repo).or_default().insert(month, n);
    }
    let mut stmt = conn.prepare(
        "select user_login, sum(commits) as n from commits_by_user
         group by user_login order by n desc, user_login limit ?1",
    )?;
    data.top_committers = stmt
        .query_map([TOP_COMMITTERS as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "select month, sum(issues_opened), sum(issues_closed), sum(prs_merged)
         from issues_by_month group by month",
    )?;
    data.flow = stmt
        .query_map([], |r| Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?])))?
        .collect::<rusqlite::Result<_>>()?;
    for (repo, month, h) in rows3::<f64>(
        conn,
        "select repo, month, median_hours_to_close from issue_resolution_by_month",
    )? {
        data.median_hours.entry(repo).or_default().insert(month, h);
    }
    let seen: BTreeSet<&String> = data
        .commits
        .values()
        .flat_map(BTreeMap::keys)
        .chain(data.median_hours.values().flat_map(BTreeMap::keys))
        .chain(data.flow.keys())
        .collect();
    if let (Some(first), Some(last)) = (seen.first(), seen.last()) {
        data.months = months_between(first, last);
    }
    Ok(data)
}

fn rows3<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
) -> rusqlite::Result<Vec<(String, String, T)>> {
    let mut stmt = conn.prepare(sql)?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

/// Every `YYYY-MM` from `first` to `last`, both included; empty when either is malformed.
pub fn months_between(first: &str, last: &str) -> Vec<String> {
    let parse = |m: &str| -> Option<(i32, u32)> {
        let (y, mo) = m.split_once('-')?;
        let mo: u32 = mo.parse().ok()?;
        (1..=12).contains(&mo).then_some((y.parse().ok()?, mo))
    };
    let (Some((mut y, mut m)), Some(end)) = (parse(first), parse(last)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while (y, m) <= end {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn months_between_crosses_years_and_rejects_garbage() {
        assert_eq!(
            months_between("2019-11", "2020-02"),
            ["2019-11", "2019-12", "2020-01", "2020-02"]
        );
        assert_eq!(months_between("2020-02", "2020-02"), ["2020-02"]);
        assert!(months_between("2020-13", "2021-01").is_empty());
        assert!(months_between("x", "2021-01").is_empty());
    }

    #[test]
    fn reads_each_mart_and_spans_every_month() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "create table commits_by_month (repo text, month text, commits int);
             insert into commits_by_month values ('o/a','2020-01',3),('o/b','2020-03',1);
             create table commits_by_user (repo text, user_login text, commits int);
             insert into commits_by_user values ('o/a','zed',2),('o/b','zed',1),('o/a','amy',3),('o/a','bob',1);
             create table issues_by_month (repo text, month text, issues_opened int,
                 issues_closed int, prs_opened int, prs_merged int);
             insert into issues_by_month values ('o/a','2020-04',2,1,5,3),('o/b','2020-04',1,0,0,1);
             create table issue_resolution_by_month (repo text, month text, median_hours_to_close real);
             insert into issue_resolution_by_month values ('o/a','2020-04',12.5);",
        )
        .unwrap();
        let data = read_from(&conn).unwrap();
        assert_eq!(data.months, ["2020-01", "2020-02", "2020-03", "2020-04"]);
        assert_eq!(data.commits["o/a"]["2020-01"], 3);
        // amy and zed tie at 3: by name.
        assert_eq!(
            data.top_committers,
            [("amy".into(), 3), ("zed".into(), 3), ("bob".into(), 1)]
        );
        assert_eq!(data.flow["2020-04"], [3, 1, 4]);
        assert_eq!(data.median_hours["o/a"]["2020-04"], 12.5);
    }
}
