//! The report page: a header, then per chart its title, what it shows, the SVG and a table of
//! the same numbers. Every number cell carries `data-row` and `data-col` so that a reader (or a
//! test) can take the numbers back out of the page.

use std::fmt::Write as _;

use super::charts::{self, Axes, LineStyle, Series};
use super::queries::ReportData;

/// What the page says about where it came from.
pub struct Origin<'a> {
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// When the page was made (RFC 3339).
    pub generated_at: &'a str,
    /// The marts database it was drawn from.
    pub source: &'a str,
}

/// Columns of the issue flow chart: (data-col key, legend text).
const FLOW: [(&str, &str); 3] = [
    ("issues_opened", "issues opened"),
    ("issues_closed", "issues closed"),
    ("prs_merged", "pull requests merged"),
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#222;margin:0;background:#f6f7f9}\
main{max-width:920px;margin:0 auto;padding:24px}\
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}\
.meta,.note{color:#555;font-size:13px;margin:0 0 12px}\
.totals{display:flex;gap:12px;margin:16px 0 24px}\
.totals div{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px}\
.totals b{display:block;font-size:20px}\
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:16px 20px;margin:0 0 20px}\
svg{max-width:100%;height:auto}\
details{margin-top:8px;font-size:13px}summary{cursor:pointer;color:#0645ad}\
table{border-collapse:collapse;margin-top:8px}\
th,td{border:1px solid #ddd;padding:2px 8px;text-align:right}th{background:#f0f0f0}\
tbody th{text-align:left;font-weight:normal}\
td.empty{color:#999}";

/// The whole page.
pub fn page(data: &ReportData, origin: &Origin) -> String {
    let total_commits: i64 = data.commits.values().flat_map(|m| m.values()).sum();
    let flow_total = |i: usize| data.flow.values().map(|f| f[i]).sum::<i64>();
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>tapline report: {name}</title><style>{STYLE}</style></head><body><main>\
         <h1>tapline report: {name}</h1>\
         <p class=\"meta\">Generated {at} from the marts in {src}. Months are UTC.</p>\
         <div class=\"totals\">",
        name = escape(origin.pipeline),
        at = escape(origin.generated_at),
        src = escape(origin.source),
    );
    for (label, n) in [
        ("repositories", data.commits.len() as i64),
        ("commits", total_commits),
        ("issues opened", flow_total(0)),
        ("issues closed", flow_total(1)),
        ("pull requests merged", flow_total(2)),
    ] {
        let _ = write!(out, "<div><b>{n}</b>{label}</div>");
    }
    out.push_str("</div>");
    commits_section(&mut out, data);
    committers_section(&mut out, data);
    flow_section(&mut out, data);
    median_section(&mut out, data);
    out.push_str("</main></body></html>\n");
    out
}

fn commits_section(out: &mut String, data: &ReportData) {
    let title = "Commits per month per repository";
    let series: Vec<Series> = data
        .commits
        .iter()
        .map(|(repo, by_month)| Series {
            name: repo,
            values: data
                .months
                .iter()
                .map(|m| Some(by_month.get(m).copied().unwrap_or(0) as f64))
                .collect(),
        })
        .collect();
    let svg = charts::line_chart(
        title,
        &Axes {
            x: "month of the committer date (UTC)",
            y: "commits per month",
        },
        &data.months,
        &series,
        LineStyle::default(),
    );
    let repos: Vec<&String> = data.commits.keys().collect();
    let rows = data.months.iter().map(|m| {
        let cells = repos
            .iter()
            .map(|r| Some(data.commits[*r].get(m).copied().unwrap_or(0).to_string()))
            .collect();
        (m.clone(), cells)
    });
    let table = table("commits-per-month", "month", &repos, rows);
    section(
        out,
        title,
        "Commits on the default branch, counted in the month they were committed.",
        &svg,
        &table,
    );
}

fn committers_section(out: &mut String, data: &ReportData) {
    let title = format!("Top {} committers", data.top_committers.len());
    let bars: Vec<(String, f64)> = data
        .top_committers
        .iter()
        .map(|(who, n)| (who.clone(), *n as f64))
        .collect();
    let svg = charts::bar_chart(
        &title,
        &Axes {
            x: "commits (all repositories)",
            y: "author",
        },
        &bars,
    );
    let rows = data
        .top_committers
        .iter()
        .map(|(who, n)| (who.clone(), vec![Some(n.to_string())]));
    let table = table("top-committers", "author", &["commits"], rows);
    section(
        out,
        &title,
        "Authors by GitHub login, or by e-mail for commits not linked to an account; all repositories together.",
        &svg,
        &table,
    );
}

fn flow_section(out: &mut String, data: &ReportData) {
    let title = "Issues opened and closed, pull requests merged, per month";
    let series: Vec<Series> = FLOW
        .iter()
        .enumerate()
        .map(|(i, (_, name))| Series {
            name,
            values: data
                .months
                .iter()
                .map(|m| Some(data.flow.get(m).map_or(0, |f| f[i]) as f64))
                .collect(),
        })
        .collect();
    let svg = charts::line_chart(
        title,
        &Axes {
            x: "month of the event (UTC)",
            y: "issues or pull requests per month",
        },
        &data.months,
        &series,
        LineStyle::default(),
    );
    let cols: Vec<&str> = FLOW.iter().map(|(key, _)| *key).collect();
    let rows = data.months.iter().map(|m| {
        let f = data.flow.get(m).copied().unwrap_or_default();
        (m.clone(), f.iter().map(|n| Some(n.to_string())).collect())
    });
    let table = table("issue-flow", "month", &cols, rows);
    section(
        out,
        title,
        "All repositories together. Plain issues only for opened and closed; pull requests counted in the month they were merged.",
        &svg,
        &table,
    );
}

fn median_section(out: &mut String, data: &ReportData) {
    let title = "Median hours to close an issue, per month of closing";
    let series: Vec<Series> = data
        .median_hours
        .iter()
        .map(|(repo, by_month)| Series {
            name: repo,
            values: data
                .months
                .iter()
                .map(|m| by_month.get(m).copied())
                .collect(),
        })
        .collect();
    let svg = charts::line_chart(
        title,
        &Axes {
            x: "month the issue was closed (UTC)",
            y: "median hours to close (log scale)",
        },
        &data.months,
        &series,
        LineStyle {
            log_scale: true,
            markers: true,
        },
    );
    let repos: Vec<&String> = data.median_hours.keys().collect();
    let rows = data.months.iter().map(|m| {
        let cells = repos
            .iter()
            .map(|r| data.median_hours[*r].get(m).map(|h| format!("{h:.2}")))
            .collect();
        (m.clone(), cells)
    });
    let table = table("median-hours-to-close", "month", &repos, rows);
    section(
        out,
        title,
        "Plain issues (not pull requests) closed in the month: the median time from opening to closing, in hours, on a logarithmic scale (each grid line is ten times the one below). A gap is a month without closed issues.",
        &svg,
        &table,
    );
}

fn section(out: &mut String, title: &str, note: &str, svg: &str, table: &str) {
    let _ = write!(
        out,
        "<section><h2>{}</h2><p class=\"note\">{}</p>{svg}<details><summary>Table of these numbers</summary>{table}</details></section>",
        escape(title),
        escape(note)
    );
}

/// A table with one row per key and one cell per column; `None` is an empty cell.
fn table(
    id: &str,
    corner: &str,
    cols: &[impl AsRef<str>],
    rows: impl Iterator<Item = (String, Vec<Option<String>>)>,
) -> String {
    let mut t = format!("<table id=\"{id}\"><thead><tr><th>{corner}</th>");
    for c in cols {
        let _ = write!(t, "<th>{}</th>", escape(c.as_ref()));
    }
    t.push_str("</tr></thead><tbody>");
    for (key, cells) in rows {
        let key = escape(&key);
        let _ = write!(t, "<tr><th>{key}</th>");
        for (col, cell) in cols.iter().zip(cells) {
            match cell {
                Some(v) => {
                    let _ = write!(
                        t,
                        "<td data-row=\"{key}\" data-col=\"{}\">{v}</td>",
                        escape(col.as_ref())
                    );
                }
                None => t.push_str("<td class=\"empty\">–</td>"),
            }
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>");
    t
}

/// `text` with HTML's special characters escaped (for text and attribute values).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_name_their_row_and_column_and_names_are_escaped() {
        let mut data = ReportData {
            months: vec!["2020-01".into(), "2020-02".into()],
            top_committers: vec![("<eve>".into(), 4)],
            ..ReportData::default()
        };
        data.commits
            .entry("o/a".into())
            .or_default()
            .insert("2020-02".into(), 4);
        data.median_hours
            .entry("o/a".into())
            .or_default()
            .insert("2020-01".into(), 1.5);
        let page = page(
            &data,
            &Origin {
                pipeline: "p",
                generated_at: "now",
                source: "db",
            },
        );
        assert!(
            page.contains(r#"<td data-row="2020-01" data-col="o/a">0</td>"#),
            "{page}"
        );
        assert!(page.contains(r#"<td data-row="2020-02" data-col="o/a">4</td>"#));
        assert!(page.contains(r#"<td data-row="&lt;eve&gt;" data-col="commits">4</td>"#));
        assert!(page.contains(r#"<td data-row="2020-01" data-col="o/a">1.50</td>"#));
        assert_eq!(page.matches("<svg").count(), 4);
        assert!(!page.contains("<script"), "the page needs no script");
    }
}
