//! `tapline report` end to end: a pipeline run against fake-github with dbt, the report written,
//! opened in headless Chromium, screenshotted, checked for console errors and network requests,
//! and the numbers of its tables compared with SQL of this test's own on the raw tables.
//!
//! Needs Debian's `chromium` (or TAPLINE_CHROMIUM) and the managed dbt venv (installed on first
//! use). `TAPLINE_REPORT_SCREENSHOT=FILE` keeps the screenshot.
#![allow(clippy::unwrap_used, missing_docs)]

mod cdp;
mod raw;

use std::path::Path;
use std::process::Command;

use fake_github::{FakeGithub, RepoSize, RunningFake};

const REPOS: [(&str, u32, u32); 2] = [("octo/app", 300, 120), ("octo/lib", 40, 12)];

#[test]
fn the_report_shows_what_the_raw_tables_hold() {
    let started = std::time::Instant::now();
    cdp::chromium();
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbt/requirements.txt");
    tapline::dbt::venv::ensure(&requirements, &mut |l| eprintln!("{l}")).expect("dbt installs");
    let mut builder = FakeGithub::builder().seed(7);
    for (name, commits, issues) in REPOS {
        builder = builder.repo(name, RepoSize::new(commits, issues));
    }
    let fake = RunningFake::start_blocking(builder).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write_pipeline(dir.path(), &fake);

    let run = tapline(&["run", "-q", "-c"], &pipeline);
    assert!(run.status.success(), "tapline run failed:\n{}", text(&run));
    let before_report = std::time::Instant::now();
    let out = tapline(&["report", "-c"], &pipeline);
    assert!(
        out.status.success(),
        "tapline report failed:\n{}",
        text(&out)
    );
    let report = dir.path().join("report.html");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        report.display().to_string(),
        "tapline report prints the report's path"
    );
    // Self-contained: nothing to fetch, no script (the SVG namespace is the one URL).
    let html = std::fs::read_to_string(&report)
        .unwrap()
        .replace("http://www.w3.org/2000/svg", "");
    for forbidden in ["<script", "<link", "http://", "https://"] {
        assert!(!html.contains(forbidden), "the report holds {forbidden}");
    }

    let mut browser = cdp::Browser::start(1000);
    let url = format!("file://{}", report.display());
    browser.call("Page.navigate", serde_json::json!({ "url": url }));
    browser.wait_for("Page.loadEventFired");
    let charts = browser.eval(
        "[...document.querySelectorAll('section')].map(s => [s.querySelector('h2').textContent, \
         s.querySelectorAll('svg').length, s.querySelectorAll('svg text').length, \
         s.querySelector('svg').getBoundingClientRect().width])",
    );
    let charts = charts.as_array().unwrap();
    assert_eq!(charts.len(), 4, "four charts: {charts:?}");
    for chart in charts {
        assert_eq!(chart[1], 1, "one SVG per chart: {chart}");
        assert!(
            chart[2].as_u64().unwrap() > 8,
            "titled axes with ticks: {chart}"
        );
        assert!(chart[3].as_f64().unwrap() > 600.0, "rendered wide: {chart}");
    }
    let cells = browser.eval(
        "[...document.querySelectorAll('td[data-row]')].map(td => \
         [td.closest('table').id, td.dataset.row, td.dataset.col, td.textContent, \
          [...td.closest('tr').parentNode.children].indexOf(td.closest('tr'))])",
    );
    let png = browser.screenshot();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real screenshot"
    );
    let shot = std::env::var_os("TAPLINE_REPORT_SCREENSHOT")
        .map_or_else(|| dir.path().join("report.png"), Into::into);
    std::fs::write(&shot, &png).unwrap();
    eprintln!("screenshot: {}", Path::new(&shot).display());
    assert_eq!(browser.errors(), Vec::<String>::new(), "console errors");
    let requests: Vec<String> = browser
        .requests()
        .into_iter()
        .filter(|u| !u.starts_with("file://") && !u.starts_with("data:"))
        .collect();
    assert!(
        requests.is_empty(),
        "the report made requests: {requests:?}"
    );
    drop(browser);
    let report_seconds = before_report.elapsed().as_secs_f64();

    let mut shown = raw::Cells::new();
    let mut committers = Vec::new();
    for cell in cells.as_array().unwrap() {
        let [table, row, col, text, _] = &cell.as_array().unwrap()[..] else {
            panic!("cell {cell}")
        };
        let n: f64 = text
            .as_str()
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("cell {cell} is no number: {e}"));
        let key = |v: &serde_json::Value| v.as_str().unwrap().to_string();
        if table == "top-committers" {
            committers.push((key(row), n));
        } else if n != 0.0 {
            shown.insert((key(table), key(row), key(col)), n);
        }
    }
    let db = rusqlite::Connection::open(dir.path().join("github.db")).unwrap();
    let (want, want_committers) = raw::expected(&db, 10);
    assert_eq!(committers, want_committers, "top committers");
    // Hours are shown to 0.01; a number on one side only is a difference too.
    let differences: Vec<String> = want
        .keys()
        .chain(shown.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|key| match (shown.get(key), want.get(key)) {
            (Some(page), Some(sql)) if (page - sql).abs() <= 0.0051 => None,
            (page, sql) => Some(format!("{key:?}: page {page:?}, raw tables {sql:?}")),
        })
        .collect();
    assert!(
        differences.is_empty(),
        "{} numbers differ, the first: {:#?}",
        differences.len(),
        &differences[..differences.len().min(8)]
    );
    for table in ["commits-per-month", "issue-flow", "median-hours-to-close"] {
        assert!(
            want.keys().filter(|k| k.0 == table).count() > 5,
            "{table}: too few numbers to mean anything"
        );
    }
    eprintln!(
        "report test: {:.1} s in all, {report_seconds:.1} s for report + Chromium",
        started.elapsed().as_secs_f64()
    );
}

fn write_pipeline(dir: &Path, fake: &RunningFake) -> std::path::PathBuf {
    tapline::embedded::write_dbt_project(&dir.join("dbt")).unwrap();
    let repos: Vec<String> = REPOS.iter().map(|(n, ..)| format!("\"{n}\"")).collect();
    let text = format!(
        r#"name = "report-test"
[tap]
executable = "tap-github"
config = {{ repositories = [{}], start_date = "2019-01-01T00:00:00Z", api_url = "{}" }}
[target]
executable = "target-sqlite"
config = {{ database = "github.db" }}
[dbt]
project_dir = "dbt"
commands = ["run"]
"#,
        repos.join(", "),
        fake.api_url()
    );
    let path = dir.join("tapline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn tapline(args: &[&str], pipeline: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tapline"))
        .args(args)
        .arg(pipeline)
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn without_marts_the_report_says_to_run_dbt_first() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("tapline.toml");
    std::fs::write(
        &pipeline,
        "name = \"p\"\n[tap]\nexecutable = \"tap-github\"\n[target]\nexecutable = \"target-sqlite\"\nconfig = { database = \"github.db\" }\n",
    )
    .unwrap();
    let out = tapline(&["report", "-c"], &pipeline);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let marts = dir.path().join("github_dbt").join("main_dbt.db");
    assert_eq!(
        stderr.trim(),
        format!(
            "tapline: error: no marts at {}: run the pipeline with dbt first (`tapline run`)",
            marts.display()
        )
    );
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(!dir.path().join("report.html").exists());
}
