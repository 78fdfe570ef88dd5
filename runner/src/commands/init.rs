//! `tapline init`: a commented pipeline file, and the dbt project beside it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

/// What the user asked `tapline init` for.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Repositories, `owner/name`.
    pub repos: Vec<String>,
    /// Organizations.
    pub orgs: Vec<String>,
    /// Lower bound of the first run; default a year ago.
    pub start_date: Option<String>,
    /// GitHub's API address.
    pub api_url: String,
}

/// Writes `config` (refusing to overwrite it without `force`) and `dbt/` next to it if absent.
pub fn init(config: &Path, choices: &Choices, force: bool) -> anyhow::Result<ExitCode> {
    if config.exists() && !force {
        eprintln!(
            "tapline: error: {} exists; use --force to overwrite it",
            config.display()
        );
        return Ok(ExitCode::from(crate::run::exit::CONFIG));
    }
    let dir = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(config, pipeline_text(choices))
        .with_context(|| format!("writing {}", config.display()))?;
    let dbt = dir.join("dbt");
    if !dbt.join("dbt_project.yml").exists() {
        crate::embedded::write_dbt_project(&dbt)?;
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
    let api = if api_url == "https://api.github.com" {
        "# api_url = \"https://HOST/api/v3\"             # GitHub Enterprise".to_string()
    } else {
        format!("api_url = \"{api_url}\"")
    };
    let start_date = choices.start_date.clone().unwrap_or_else(|| {
        let year_ago = time::OffsetDateTime::now_utc() - time::Duration::days(365);
        format!(
            "{}-{:02}-{:02}T00:00:00Z",
            year_ago.year(),
            u8::from(year_ago.month()),
            year_ago.day()
        )
    });
    format!(
        r#"# tapline pipeline: GitHub → SQLite → dbt. Run it with `tapline run`; history: `tapline runs`.
# Every string may use ${{VAR}} or ${{VAR:-default}} from the environment. Reference: README.md.
name = "github"                                  # bookmarks and run history are kept under this name

[tap]
executable = "tap-github"                        # tapline carries its own copy
# select = ["commits", "issues"]                 # default: every stream (the dbt models use them all)

[tap.config]
repositories = [{repositories}]
{organizations}
start_date = "{start_date}"      # the first run reads nothing older
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
    }
}
