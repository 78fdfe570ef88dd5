//! `tapline demo`: a fake GitHub on loopback, a pipeline written into a folder, a full run with
//! dbt, new activity, an incremental run, both summaries side by side, what to try next, and
//! the HTML report of the marts.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use fake_github::{FakeGithub, Mutation, RepoSize, RunningFake};

use crate::plan::Plan;
use crate::run::{Interrupt, Options};
use crate::summary::Report;

/// The demo's repositories: name, commits, issues and pull requests.
const REPOS: [(&str, u32, u32); 3] = [
    ("octo/app", 3_000, 600),
    ("octo/api", 1_500, 300),
    ("octo/docs", 400, 80),
];

/// New activity per repository before the second run.
const ACTIVITY: Mutation = Mutation {
    new_commits: 40,
    update_issues: 12,
    new_issues: 6,
    ..Mutation::NONE
};

/// Runs the demo in `dir`.
pub fn demo(dir: &Path, no_dbt: bool, interrupt: &Interrupt) -> anyhow::Result<ExitCode> {
    let mut builder = FakeGithub::builder().seed(7);
    for (name, commits, issues) in REPOS {
        builder = builder.repo(name, RepoSize::new(commits, issues));
    }
    let fake = RunningFake::start_blocking(builder).context("starting the fake GitHub")?;
    say(&format!(
        "a fake GitHub is serving {} repositories on {} (no token, no network)",
        REPOS.len(),
        fake.api_url()
    ));
    let pipeline = prepare(dir, &fake)?;
    let plan = Plan::load(&pipeline)?;
    let options = Options {
        no_dbt,
        ..Options::default()
    };
    let mut out = std::io::stdout().lock();

    say("first run: everything since 2019");
    let first = crate::run::run(&plan, &options, interrupt)?;
    write!(out, "{first}")?;
    out.flush()?;
    if first.exit_code != 0 {
        return Ok(ExitCode::from(first.exit_code));
    }

    for (name, ..) in REPOS {
        fake.mutate(name, ACTIVITY)
            .with_context(|| format!("adding activity to {name}"))?;
    }
    say(&format!(
        "new activity on the fake GitHub: {} commits, {} updated and {} new issues per repository",
        ACTIVITY.new_commits, ACTIVITY.update_issues, ACTIVITY.new_issues
    ));
    say("second run: from the stored bookmarks, only what changed");
    let second = crate::run::run(&plan, &options, interrupt)?;
    write!(out, "{second}")?;
    writeln!(out, "\n{}", side_by_side(&first, &second))?;
    writeln!(out, "{}", next_steps(dir, &pipeline, no_dbt))?;
    if !no_dbt && second.exit_code == 0 {
        let report = crate::report::write(&plan)?;
        writeln!(out, "Report of the marts: {}", report.display())?;
    }
    Ok(ExitCode::from(second.exit_code))
}

/// Writes the pipeline and the dbt project into `dir`, removing what an earlier demo left.
fn prepare(dir: &Path, fake: &RunningFake) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for leftover in [
        "github.db",
        "github.db-wal",
        "github.db-shm",
        crate::report::FILE_NAME,
    ] {
        let _ = std::fs::remove_file(dir.join(leftover));
    }
    for leftover in ["github_dbt", ".tapline"] {
        let _ = std::fs::remove_dir_all(dir.join(leftover));
    }
    crate::embedded::write_dbt_project(&dir.join("dbt"))?;
    let repos: Vec<String> = REPOS.iter().map(|(n, ..)| format!("\"{n}\"")).collect();
    let text = format!(
        r#"# Written by `tapline demo`: tap-github on a fake GitHub → target-sqlite → dbt.
name = "demo"

[tap]
executable = "tap-github"

[tap.config]
repositories = [{}]
start_date = "2019-01-01T00:00:00Z"
api_url = "{}"          # the demo's fake GitHub; remove this line for the real one

[target]
executable = "target-sqlite"

[target.config]
database = "github.db"

[dbt]
project_dir = "dbt"
commands = ["build"]
"#,
        repos.join(", "),
        fake.api_url()
    );
    let pipeline = dir.join("tapline.toml");
    std::fs::write(&pipeline, text).with_context(|| format!("writing {}", pipeline.display()))?;
    Ok(pipeline)
}

fn side_by_side(first: &Report, second: &Report) -> String {
    let total = |r: &Report| r.records.values().sum::<u64>();
    let streams: std::collections::BTreeSet<&String> =
        first.records.keys().chain(second.records.keys()).collect();
    // The label column fits the longest stream name, indented by two.
    let w = streams.iter().map(|s| s.len() + 2).fold(19, usize::max);
    let mut text = format!("{:w$}{:>12} {:>12}\n", "", "first run", "second run");
    let mut row = |label: &str, a: String, b: String| {
        text.push_str(&format!("{label:<w$}{a:>12} {b:>12}\n"));
    };
    row(
        "records",
        total(first).to_string(),
        total(second).to_string(),
    );
    for stream in streams {
        let n = |r: &Report| r.records.get(stream).copied().unwrap_or(0).to_string();
        row(&format!("  {stream}"), n(first), n(second));
    }
    row(
        "requests",
        first.requests.to_string(),
        second.requests.to_string(),
    );
    row(
        "seconds",
        format!("{:.2}", first.seconds),
        format!("{:.2}", second.seconds),
    );
    text
}

fn next_steps(dir: &Path, pipeline: &Path, no_dbt: bool) -> String {
    let db = dir.join("github.db");
    let marts = dir.join("github_dbt").join("main_dbt.db");
    let mut text = format!(
        "Next:\n  sqlite3 {} 'select count(*) from commits'      # the raw tables\n",
        db.display()
    );
    if !no_dbt {
        text.push_str(&format!(
            "  sqlite3 {} 'select * from commits_by_month limit 5'   # the marts\n",
            marts.display()
        ));
    }
    text.push_str(&format!(
        "  tapline runs -c {}                     # the history of these runs\n  tapline init --repo OWNER/NAME                # your own pipeline, then:\n  export GITHUB_TOKEN=...  &&  tapline run\n",
        pipeline.display()
    ));
    text
}

fn say(text: &str) {
    eprintln!("tapline demo: {text}");
}
