//! `tapline init`: a commented pipeline file, and the dbt project beside it; with `--connector`
//! another connector's pipeline ([`super::init_connector`]).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

/// `--repo` as typed → `owner/name`: a GitHub address (`https://github.com/o/r`, with or without
/// scheme, `.git` or a trailing slash) is cut down to its owner and name.
pub fn normalize_repo(typed: &str) -> Result<String, String> {
    let text = typed.trim().trim_end_matches('/');
    let text = text
        .split_once("://")
        .map_or(text, |(_, rest)| rest)
        .trim_start_matches("www.");
    let text = text
        .strip_prefix("github.com/")
        .unwrap_or(text)
        .trim_end_matches(".git");
    let parts: Vec<&str> = text.split('/').collect();
    let fine = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match parts.as_slice() {
        [owner, name] if fine(owner) && fine(name) => Ok(format!("{owner}/{name}")),
        _ => Err(format!(
            "--repo {typed}: not a repository; write owner/name (e.g. rust-lang/rust) or its GitHub address"
        )),
    }
}

/// `--start-date` as typed → RFC 3339 (a plain date `YYYY-MM-DD` is midnight UTC).
pub fn normalize_start_date(typed: &str) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    let text = typed.trim();
    let date_only = format!("{text}T00:00:00Z");
    [text, date_only.as_str()]
        .iter()
        .find_map(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok())
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .ok_or_else(|| {
            format!(
                "--start-date {typed}: not a date; write RFC 3339 (2024-01-31T00:00:00Z) or 2024-01-31"
            )
        })
}

/// What the user asked `tapline init` for.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Repositories, `owner/name`.
    pub repos: Vec<String>,
    /// Organizations.
    pub orgs: Vec<String>,
    /// Lower bound of the first run; default none (the full history).
    pub start_date: Option<String>,
    /// GitHub's API address.
    pub api_url: String,
    /// `--connector`: a shipped connector's name or a definitions file; `None`: `tap-github`.
    pub connector: Option<String>,
    /// `--set key=value`: settings of a connector other than GitHub's.
    pub sets: Vec<String>,
}

/// GitHub's API address, `--api-url`'s default.
pub const GITHUB_API: &str = "https://api.github.com";

/// Writes `config` (refusing to overwrite it without `force`) and `dbt/` next to it if absent.
pub fn init(config: &Path, choices: &Choices, force: bool) -> anyhow::Result<ExitCode> {
    if let Some(typed) = &choices.connector {
        let connector = match super::init_connector::find(typed) {
            Ok(c) => c,
            Err(e) => return Ok(refuse(&[e])),
        };
        let github = connector.named == super::init_connector::Named::Shipped("github".into());
        if !github {
            return init_connector(config, &connector, choices, force);
        }
        if let Some(set) = choices.sets.first() {
            return Ok(refuse(&[format!(
                "--set {set}: GitHub's connector takes --repo, --org and --api-url"
            )]));
        }
    }
    let repos: Result<Vec<String>, String> =
        choices.repos.iter().map(|r| normalize_repo(r)).collect();
    let start_date = choices
        .start_date
        .as_deref()
        .map(normalize_start_date)
        .transpose();
    let choices = match (repos, start_date) {
        (Ok(repos), Ok(start_date)) => Choices {
            repos,
            start_date,
            ..choices.clone()
        },
        (Err(e), _) | (_, Err(e)) => return Ok(refuse(&[e])),
    };
    let choices = &choices;
    let Some(dir) = writable(config, force) else {
        return Ok(ExitCode::from(crate::run::exit::CONFIG));
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(config, pipeline_text(choices))
        .with_context(|| format!("writing {}", config.display()))?;
    let dbt = dir.join("dbt");
    if !dbt.join("dbt_project.yml").exists() {
        crate::embedded::write_dbt_project(&dbt)?;
    }
    if choices.start_date.is_none() {
        warn_about_cost(choices);
    }
    let placeholder = choices.repos.is_empty() && choices.orgs.is_empty();
    eprintln!(
        "tapline: wrote {} and the dbt project in {}\n\nNext:\n{}  export GITHUB_TOKEN=...        # 5,000 requests/hour instead of 60\n  tapline run -c {}\n  tapline runs -c {}",
        config.display(),
        dbt.display(),
        if placeholder {
            "  edit repositories in the file  # or run init again with --repo owner/name\n"
        } else {
            ""
        },
        config.display(),
        config.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A connector other than GitHub's: its pipeline file, no dbt project.
fn init_connector(
    config: &Path,
    connector: &super::init_connector::Connector,
    choices: &Choices,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let github_only = [
        ("--repo", !choices.repos.is_empty()),
        ("--org", !choices.orgs.is_empty()),
        ("--api-url", choices.api_url != GITHUB_API),
    ];
    if let Some((flag, _)) = github_only.iter().find(|(_, given)| *given) {
        return Ok(refuse(&[format!(
            "{flag}: only for GitHub (--connector github); {} takes --set key=value",
            connector.defs.connector.name
        )]));
    }
    let values = match super::init_connector::values(&connector.defs, &choices.sets) {
        Ok(v) => v,
        Err(problems) => return Ok(refuse(&problems)),
    };
    let start_date = match choices.start_date.as_deref().map(normalize_start_date) {
        Some(Err(e)) => return Ok(refuse(&[e])),
        other => other.and_then(Result::ok),
    };
    let Some(dir) = writable(config, force) else {
        return Ok(ExitCode::from(crate::run::exit::CONFIG));
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = super::init_connector::pipeline_text(connector, dir, &values, start_date.as_deref());
    std::fs::write(config, text).with_context(|| format!("writing {}", config.display()))?;
    eprintln!(
        "tapline: wrote {} (no dbt project: none ships for {})\n\nNext:\n  tapline validate -c {}\n  tapline run -c {}\n  tapline runs -c {}",
        config.display(),
        connector.defs.connector.name,
        config.display(),
        config.display(),
        config.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The folder of `config`, or `None` (said on stderr) when it exists and `force` is not given.
fn writable(config: &Path, force: bool) -> Option<&Path> {
    if config.exists() && !force {
        eprintln!(
            "tapline: error: {} exists; use --force to overwrite it",
            config.display()
        );
        return None;
    }
    Some(
        config
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )
}

fn refuse(problems: &[String]) -> ExitCode {
    for p in problems {
        eprintln!("tapline: error: {p}");
    }
    ExitCode::from(crate::run::exit::CONFIG)
}

/// Estimates the first run's commits and warns when they take hours of the API's quota.
fn warn_about_cost(choices: &Choices) {
    if choices.repos.is_empty() {
        return;
    }
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let mut total = 0;
    for counted in
        crate::estimate::commit_counts(&choices.api_url, &choices.repos, token.as_deref())
    {
        match counted {
            Ok(c) => {
                eprintln!("tapline: {}: {} commits", c.repo, c.count);
                total += c.count;
            }
            Err(e) => eprintln!("tapline: could not count the commits of {e}"),
        }
    }
    let (requests, hours) = crate::estimate::cost(total, token.is_some());
    if hours >= 1.0 {
        eprintln!(
            "tapline: warning: the first run reads the full history: {total} commits take about {requests} requests for commits alone, {hours:.1} hours of the API's quota {}; set start_date (or --start-date) to read less",
            if token.is_some() {
                "(5,000 requests/hour)"
            } else {
                "without a token (60 requests/hour; export GITHUB_TOKEN for 5,000)"
            }
        );
    }
}

/// The commented pipeline file.
pub fn pipeline_text(choices: &Choices) -> String {
    let (repos, orgs, api_url) = (&choices.repos, &choices.orgs, choices.api_url.as_str());
    let list = |items: &[String]| {
        items
            .iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let repositories = if repos.is_empty() && orgs.is_empty() {
        "\"OWNER/NAME\"".to_string()
    } else {
        list(repos)
    };
    let organizations = if orgs.is_empty() {
        "# organizations = [\"my-org\"]                  # every repository of these organizations"
            .to_string()
    } else {
        format!("organizations = [{}]", list(orgs))
    };
    let api = if api_url == GITHUB_API {
        "# api_url = \"https://HOST/api/v3\"             # GitHub Enterprise".to_string()
    } else {
        format!("api_url = \"{api_url}\"")
    };
    let start_date = choices.start_date.as_ref().map_or_else(
        || "# start_date = \"2024-01-01T00:00:00Z\"      # default: the full history".to_string(),
        |d| format!("start_date = \"{d}\"      # the first run reads nothing older"),
    );
    let tap = if choices.connector.is_some() {
        "connector = \"github\"                             # shipped inside tap-rest (tapline carries it)"
    } else {
        "executable = \"tap-github\"                        # tapline carries its own copy"
    };
    format!(
        r#"# tapline pipeline: GitHub → SQLite → dbt. Run it with `tapline run`; history: `tapline runs`.
# Every string may use ${{VAR}} or ${{VAR:-default}} from the environment. Reference: README.md.
name = "github"                                  # bookmarks and run history are kept under this name

[tap]
{tap}
# select = ["commits", "issues"]                 # default: every stream (the dbt models use them all)

[tap.config]
repositories = [{repositories}]
{organizations}
{start_date}
auth_token = "${{GITHUB_TOKEN:-}}"                  # never printed or stored by tapline
{api}

[target]
executable = "target-sqlite"                     # tapline carries its own copy

[target.config]
database = "data/github.db"

[dbt]
project_dir = "dbt"                              # written next to this file by `tapline init`
commands = ["build"]                             # tests interleaved; ["run", "test"] works too; [] skips dbt

[state]
database = ".tapline/state.db"                   # bookmarks and run history
"#,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_parses_as_a_pipeline() {
        let text = pipeline_text(&Choices {
            repos: vec!["octo/app".into()],
            orgs: vec!["octo".into()],
            start_date: None,
            api_url: "http://127.0.0.1:9".into(),
            ..Choices::default()
        });
        let env = |_: &str| None;
        let p = crate::plan::parse(&text, &env).expect("valid pipeline");
        assert_eq!(
            p.tap.config["repositories"],
            serde_json::json!(["octo/app"])
        );
        assert_eq!(p.tap.config["organizations"], serde_json::json!(["octo"]));
        assert_eq!(p.tap.config["api_url"], "http://127.0.0.1:9");
        assert_eq!(p.tap.config["auth_token"], "");
        let text = pipeline_text(&Choices {
            api_url: "https://api.github.com".into(),
            ..Choices::default()
        });
        let p = crate::plan::parse(&text, &env).expect("valid pipeline");
        assert!(p.tap.config.get("api_url").is_none());
        assert!(p.tap.config.get("start_date").is_none(), "the full history");
    }

    #[test]
    fn repositories_are_normalized_or_refused() {
        for typed in [
            "o/r",
            "https://github.com/o/r",
            "https://github.com/o/r/",
            "github.com/o/r.git",
            "http://www.github.com/o/r",
        ] {
            assert_eq!(normalize_repo(typed), Ok("o/r".to_string()), "{typed}");
        }
        for typed in ["not-a-repo", "a/b/c", "/r", "o/", "o r/x"] {
            assert!(normalize_repo(typed).is_err(), "{typed}");
        }
    }

    #[test]
    fn start_dates_are_rfc3339_or_plain_dates() {
        assert_eq!(
            normalize_start_date("2024-01-31"),
            Ok("2024-01-31T00:00:00Z".to_string())
        );
        assert_eq!(
            normalize_start_date("2024-01-31T02:00:00+02:00"),
            Ok("2024-01-31T00:00:00Z".to_string())
        );
        let err = normalize_start_date("yesterday").expect_err("not a date");
        assert!(
            err.starts_with("--start-date yesterday: not a date"),
            "{err}"
        );
    }
}
