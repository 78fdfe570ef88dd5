//! The report's numbers computed again from the raw tables in `main` (commits, issues,
//! pull_requests), not from the marts the report was drawn from.

use std::collections::BTreeMap;

use rusqlite::Connection;

/// (table id, row, column) → the number, as the page's tables key their cells.
pub type Cells = BTreeMap<(String, String, String), f64>;

/// Every number the report's tables should show, zeros left out.
pub fn expected(db: &Connection, top: usize) -> (Cells, Vec<(String, f64)>) {
    let mut cells = Cells::new();
    let mut put = |table: &str, row: String, col: String, n: f64| {
        cells.insert((table.to_string(), row, col), n);
    };
    for (repo, month, n) in triples(
        db,
        "commits",
        "select _sdc_repository, strftime('%Y-%m', commit__committer__date), count(*)
         from commits where {live} group by 1, 2",
    ) {
        put("commits-per-month", month, repo, n);
    }
    for (col, sql) in [
        (
            "issues_opened",
            "select '', strftime('%Y-%m', created_at), count(*) from issues
             where {live} and pull_request__url is null group by 2",
        ),
        (
            "issues_closed",
            "select '', strftime('%Y-%m', closed_at), count(*) from issues
             where {live} and pull_request__url is null and closed_at is not null group by 2",
        ),
        (
            "prs_merged",
            "select '', strftime('%Y-%m', merged_at), count(*) from pull_requests
             where {live} and merged_at is not null group by 2",
        ),
    ] {
        let table = if col == "prs_merged" {
            "pull_requests"
        } else {
            "issues"
        };
        for (_, month, n) in triples(db, table, sql) {
            put("issue-flow", month, col.to_string(), n);
        }
    }
    let mut hours: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for (repo, month, h) in triples(
        db,
        "issues",
        "select _sdc_repository, strftime('%Y-%m', closed_at),
                (julianday(closed_at) - julianday(created_at)) * 24
         from issues where {live} and pull_request__url is null and closed_at is not null",
    ) {
        hours.entry((repo, month)).or_default().push(h);
    }
    for ((repo, month), mut h) in hours {
        h.sort_by(f64::total_cmp);
        let mid = h.len() / 2;
        let median = if h.len() % 2 == 1 {
            h[mid]
        } else {
            (h[mid - 1] + h[mid]) / 2.0
        };
        put("median-hours-to-close", month, repo, median);
    }
    cells.retain(|_, n| *n != 0.0);
    let committers = triples(
        db,
        "commits",
        &format!(
            "select '', coalesce(nullif(author__login, ''), commit__author__email) as who,
                    count(*) as n
             from commits where {{live}} group by who order by n desc, who limit {top}"
        ),
    )
    .into_iter()
    .map(|(_, who, n)| (who, n))
    .collect();
    (cells, committers)
}

/// Rows of (text, text, number); `{live}` becomes the filter leaving out soft-deleted rows.
fn triples(db: &Connection, table: &str, sql: &str) -> Vec<(String, String, f64)> {
    let sql = sql.replace("{live}", &live(db, table));
    let mut stmt = db.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn live(db: &Connection, table: &str) -> String {
    let has: i64 = db
        .query_row(
            &format!(
                "select count(*) from pragma_table_info('{table}') where name = '_sdc_deleted_at'"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    if has > 0 {
        "_sdc_deleted_at is null"
    } else {
        "1 = 1"
    }
    .to_string()
}
