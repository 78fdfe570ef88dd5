//! The second layer of configuration: a pipeline file read, expanded, checked and resolved into
//! what a run needs (absolute paths, found executables, secrets to mask). Every problem in the
//! file is reported at once, each naming the file and the key at fault.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::{CatalogFlag, Pipeline};
use crate::executable::{find_executable, label_of, locate};
use crate::expand::expand_toml;

/// A pipeline ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// State id.
    pub name: String,
    /// The pipeline file.
    pub file: PathBuf,
    /// Its folder: children run here and relative paths start here.
    pub base_dir: PathBuf,
    /// The tap.
    pub tap: Program,
    /// Streams to select through a catalog, if any.
    pub select: Option<Vec<String>>,
    /// The tap's catalog flag.
    pub catalog_flag: CatalogFlag,
    /// The target.
    pub target: Program,
    /// dbt, when it runs after the load.
    pub dbt: Option<DbtPlan>,
    /// The state database (SQLite).
    pub state_db: PathBuf,
    /// Where the state lives: `state_db`, or PostgreSQL.
    pub state: crate::state::Location,
    /// Secret values from the configs, masked in everything tapline prints or stores.
    pub secrets: Vec<String>,
}

/// A child program and its config.
#[derive(Debug, Clone)]
pub struct Program {
    /// Short name for log prefixes, e.g. `tap-github`.
    pub label: String,
    /// Resolved executable.
    pub path: PathBuf,
    /// Arguments before `--config` (a connector's `--definitions …`).
    pub args: Vec<std::ffi::OsString>,
    /// Its JSON config.
    pub config: Map<String, Value>,
    /// The JSON Schema file its config is checked against; `None`: its `--about`.
    pub settings_schema: Option<PathBuf>,
}

/// dbt settings with paths resolved.
#[derive(Debug, Clone)]
pub struct DbtPlan {
    /// The dbt project folder.
    pub project_dir: PathBuf,
    /// Commands to run, in order.
    pub commands: Vec<String>,
    /// The user's own dbt, or `None` for the managed venv.
    pub executable: Option<PathBuf>,
    /// The SQLite database the models read (`TAPLINE_DATABASE`).
    pub database: PathBuf,
    /// The folder for dbt's own schema files (`TAPLINE_DBT_SCHEMA_DIR`).
    pub schema_dir: PathBuf,
}

/// Every problem found in a pipeline file.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.iter().map(|p| format!("{}: {p}", .file.display())).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// The pipeline file.
    pub file: PathBuf,
    /// One line per problem, each naming the key.
    pub problems: Vec<String>,
}

/// Config keys whose values are secrets, by substring of the key name.
const SECRET_KEYS: [&str; 6] = [
    "token",
    "password",
    "secret",
    "private_key",
    "api_key",
    "credentials",
];

impl Plan {
    /// Reads, expands, checks and resolves the pipeline file at `file`.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        Self::load_with(file, &env, true)
    }

    /// Like [`Plan::load`]; without `dbt` the `[dbt]` section is neither checked nor kept (a
    /// run with `--no-dbt` needs no dbt project).
    pub fn load_for(file: &Path, dbt: bool) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        Self::load_with(file, &env, dbt)
    }

    /// Like [`Plan::load_for`], with an explicit environment (for tests).
    pub fn load_with(
        file: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        dbt: bool,
    ) -> Result<Self, ConfigError> {
        let fail = |problems: Vec<String>| ConfigError {
            file: file.to_path_buf(),
            problems,
        };
        let text =
            std::fs::read_to_string(file).map_err(|e| fail(vec![format!("cannot read: {e}")]))?;
        let mut pipeline = parse(&text, env).map_err(fail)?;
        if !dbt {
            pipeline.dbt = None;
        }
        let base_dir = std::path::absolute(file)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        resolve(pipeline, file, &base_dir).map_err(fail)
    }
}

/// Where a pipeline keeps its state, and under which name, without resolving its programs:
/// what `tapline state` and `tapline runs` need, so they work where the tap is not installed.
pub fn state_location(file: &Path) -> Result<(String, PathBuf), ConfigError> {
    let fail = |problems: Vec<String>| ConfigError {
        file: file.to_path_buf(),
        problems,
    };
    let text =
        std::fs::read_to_string(file).map_err(|e| fail(vec![format!("cannot read: {e}")]))?;
    let env = |name: &str| std::env::var(name).ok();
    let pipeline = parse(&text, &env).map_err(fail)?;
    let base = std::path::absolute(file)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((pipeline.name, base.join(pipeline.state.database)))
}

/// Like [`state_location`], with the store the pipeline's `[state]` names.
pub fn state_store_location(file: &Path) -> Result<(String, crate::state::Location), ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
        file: file.to_path_buf(),
        problems: vec![format!("cannot read: {e}")],
    })?;
    let env = |name: &str| std::env::var(name).ok();
    let url = parse(&text, &env).ok().and_then(|p| p.state.url);
    let (name, db) = state_location(file)?;
    Ok((name, location(url, db)))
}

fn location(url: Option<String>, db: PathBuf) -> crate::state::Location {
    match url {
        Some(url) => crate::state::Location::Postgres(url),
        None => crate::state::Location::Sqlite(db),
    }
}

/// The password of a PostgreSQL connection string, if it has one.
fn url_password(url: &str) -> Option<String> {
    let config: postgres::Config = url.parse().ok()?;
    let password = String::from_utf8_lossy(config.get_password()?).into_owned();
    (!password.is_empty()).then_some(password)
}

/// Parses pipeline text: TOML, then `${VAR}` expansion, then the typed structure.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Pipeline, Vec<String>> {
    let mut doc: toml::Value = toml::from_str(text).map_err(|e| vec![one_line(&e.to_string())])?;
    let mut missing = Vec::new();
    expand_toml(&mut doc, env, &mut missing);
    if !missing.is_empty() {
        return Err(missing
            .iter()
            .map(|m| format!("environment variable `{m}` is not set (write `${{{m}:-default}}` to allow a default)"))
            .collect());
    }
    let json = toml_to_json(doc);
    serde_path_to_error::deserialize(json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        vec![if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }]
    })
}

fn resolve(p: Pipeline, file: &Path, base: &Path) -> Result<Plan, Vec<String>> {
    let mut problems = Vec::new();
    if p.name.trim().is_empty() {
        problems.push("name: must not be empty".to_string());
    }
    let source = crate::tap_source::resolve(&p.tap, base, &mut problems);
    let declared_secrets: Vec<String> = source
        .secret_keys
        .iter()
        .filter_map(|k| p.tap.config.get(k)?.as_str())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    let mut tap = Program {
        label: source.label,
        path: source.path,
        args: source.args,
        config: p.tap.config,
        settings_schema: None,
    };
    tap.settings_schema = p.tap.settings_schema.map(|f| base.join(f));
    let mut target = program(
        &p.target.executable,
        p.target.config,
        base,
        "target.executable",
        &mut problems,
    );
    target.settings_schema = p.target.settings_schema.map(|f| base.join(f));
    if let Some(Err(e)) = p.state.url.as_deref().map(str::parse::<postgres::Config>) {
        problems.push(format!(
            "state.url: not a PostgreSQL connection string: {e}"
        ));
    }
    if p.tap.select.as_ref().is_some_and(Vec::is_empty) {
        problems
            .push("tap.select: list at least one stream, or leave `select` out to sync all".into());
    }
    let dbt = match p.dbt {
        Some(dbt) if !dbt.commands.is_empty() => {
            let project_dir = base.join(&dbt.project_dir);
            if !project_dir.join("dbt_project.yml").is_file() {
                problems.push(format!(
                    "dbt.project_dir: no dbt_project.yml in {}",
                    project_dir.display()
                ));
            }
            let database = match (
                &dbt.database,
                target.config.get("database").and_then(Value::as_str),
            ) {
                (Some(db), _) => Some(base.join(db)),
                (None, Some(db)) => Some(base.join(db)),
                (None, None) => {
                    problems.push(
                        "dbt.database: not set, and [target] config has no `database`".into(),
                    );
                    None
                }
            };
            let executable = dbt.executable.as_deref().and_then(|e| {
                find_executable(e, base).or_else(|| {
                    problems.push(format!("dbt.executable: `{e}` not found"));
                    None
                })
            });
            database.map(|database| DbtPlan {
                schema_dir: schema_dir_for(&database),
                project_dir,
                commands: dbt.commands,
                executable,
                database,
            })
        }
        _ => None,
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut secrets = Vec::new();
    collect_secrets(&tap.config, &mut secrets);
    secrets.extend(declared_secrets);
    collect_secrets(&target.config, &mut secrets);
    secrets.extend(p.state.url.as_deref().and_then(url_password));
    let state_db = base.join(p.state.database);
    Ok(Plan {
        name: p.name,
        file: file.to_path_buf(),
        base_dir: base.to_path_buf(),
        tap,
        select: p.tap.select,
        catalog_flag: p.tap.catalog_flag,
        target,
        dbt,
        state: location(p.state.url, state_db.clone()),
        state_db,
        secrets,
    })
}

fn program(
    exe: &str,
    config: Map<String, Value>,
    base: &Path,
    key: &str,
    problems: &mut Vec<String>,
) -> Program {
    let path = locate(exe, base, key, problems);
    Program {
        label: label_of(exe),
        path,
        args: Vec::new(),
        config,
        settings_schema: None,
    }
}

/// The folder beside the database where dbt keeps its own schema files (`main_dbt.db`):
/// `data/github.db` → `data/github_dbt/`.
pub fn schema_dir_for(database: &Path) -> PathBuf {
    let stem = database
        .file_stem()
        .map_or_else(|| "database".into(), |s| s.to_string_lossy().into_owned());
    database.with_file_name(format!("{stem}_dbt"))
}

fn collect_secrets(config: &Map<String, Value>, out: &mut Vec<String>) {
    for (key, value) in config {
        let key = key.to_ascii_lowercase();
        match value {
            Value::String(s) if !s.is_empty() && SECRET_KEYS.iter().any(|k| key.contains(k)) => {
                out.push(s.clone())
            }
            Value::Object(inner) => collect_secrets(inner, out),
            _ => {}
        }
    }
}

/// TOML → JSON; datetimes become RFC 3339 strings.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the README and of `tapline init`.
    const EXAMPLE: &str = r#"
name = "github"
[tap]
executable = "tap-github"
config = { repositories = ["octo/app"], start_date = "2024-01-01T00:00:00Z", auth_token = "${GITHUB_TOKEN:-}" }
select = ["commits", "issues"]
catalog_flag = "--catalog"
[target]
executable = "target-sqlite"
config = { database = "data/github.db" }
[dbt]
project_dir = "dbt"
commands = ["run", "test"]
[state]
database = ".tapline/state.db"
"#;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn documented_example_parses() {
        let p = parse(EXAMPLE, &no_env).expect("valid");
        assert_eq!(p.name, "github");
        assert_eq!(p.tap.select, Some(vec!["commits".into(), "issues".into()]));
        assert_eq!(p.tap.config["auth_token"], Value::String(String::new()));
        assert_eq!(
            p.dbt.map(|d| d.commands),
            Some(vec!["run".to_string(), "test".to_string()])
        );
    }

    #[test]
    fn errors_name_the_key() {
        let bad = EXAMPLE.replace("catalog_flag = \"--catalog\"", "catalog_flag = \"--cat\"");
        let err = parse(&bad, &no_env).expect_err("bad flag");
        assert!(
            err[0].starts_with("tap.catalog_flag: unknown variant `--cat`"),
            "{err:?}"
        );
        let bad = EXAMPLE.replace("[state]", "[state]\nlocation = 1");
        let err = parse(&bad, &no_env).expect_err("unknown key");
        assert!(
            err[0].starts_with("state.location: unknown field `location`"),
            "{err:?}"
        );
        let err = parse("name = \"x\"\n[tap]\nexecutable = 3\n", &no_env).expect_err("wrong type");
        assert!(
            err[0].starts_with("tap.executable: invalid type"),
            "{err:?}"
        );
    }

    #[test]
    fn every_missing_variable_is_reported() {
        let text = EXAMPLE
            .replace("${GITHUB_TOKEN:-}", "${A}")
            .replace("data/github.db", "${B}");
        let err = parse(&text, &no_env).expect_err("missing vars");
        assert_eq!(err.len(), 2);
        assert!(err[0].contains("`A`") && err[1].contains("`B`"), "{err:?}");
    }

    #[test]
    fn toml_datetimes_become_strings() {
        let text = EXAMPLE.replace("\"2024-01-01T00:00:00Z\"", "2024-01-01T00:00:00Z");
        let p = parse(&text, &no_env).expect("valid");
        assert_eq!(
            p.tap.config["start_date"],
            Value::String("2024-01-01T00:00:00Z".into())
        );
    }

    #[test]
    fn secrets_are_collected_from_configs() {
        let mut out = Vec::new();
        let config = serde_json::json!({"auth_token": "abc", "nested": {"password": "pw"}, "database": "x", "api_key": ""});
        collect_secrets(config.as_object().expect("object"), &mut out);
        assert_eq!(out, vec!["abc", "pw"]);
    }

    #[test]
    fn the_state_urls_password_is_a_secret_and_a_bad_url_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tapline.toml");
        let text = |url: &str| {
            format!(
                "name = \"p\"\n[tap]\nexecutable = \"sh\"\n[target]\nexecutable = \"sh\"\n[state]\nurl = \"{url}\"\n"
            )
        };
        let url = "postgres://tapline:s3cret@db.example:5433/state";
        std::fs::write(&file, text(url)).expect("writes");
        let plan = Plan::load_with(&file, &no_env, true).expect("valid");
        assert_eq!(plan.secrets, vec!["s3cret"]);
        assert_eq!(plan.state, crate::state::Location::Postgres(url.into()));
        std::fs::write(
            &file,
            text("postgres://tapline:s3cret@db.example:port/state"),
        )
        .expect("writes");
        let err = Plan::load_with(&file, &no_env, true).expect_err("bad port");
        let err = err.to_string();
        assert!(
            err.contains("state.url: not a PostgreSQL connection string")
                && !err.contains("s3cret"),
            "{err}"
        );
    }

    #[test]
    fn settings_a_connector_declares_secret_are_secrets_whatever_their_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("api.toml"),
            include_str!("../tests/cli/connectors/tracker.toml"),
        )
        .expect("writes");
        let file = dir.path().join("tapline.toml");
        std::fs::write(
            &file,
            "name = \"p\"\n[tap]\ndefinitions = \"api.toml\"\nconfig = { repository = \"o/r\", pat = \"glpat-1\" }\n[target]\nexecutable = \"sh\"\n",
        )
        .expect("writes");
        let plan = Plan::load_with(&file, &no_env, true).expect("valid");
        assert_eq!(plan.secrets, vec!["glpat-1"]);
    }

    #[test]
    fn schema_dir_sits_beside_the_database() {
        assert_eq!(
            schema_dir_for(Path::new("/d/github.db")),
            PathBuf::from("/d/github_dbt")
        );
    }
}
