//! `tapline init --connector NAME|FILE.toml`: a pipeline for a connector run by `tap-rest`, its
//! `[tap.config]` made from the connector's settings: required ones from `--set key=value`
//! (checked against the setting's schema), secrets read from the environment, optional ones as
//! comments. GitHub's connector gets GitHub's init (`--repo`, the dbt project).

use std::path::{Path, PathBuf};

use serde_json::Value;
use tap_rest::defs::Definitions;
use tap_rest::defs::settings::{SettingDef, SettingType};

/// Which connector `--connector` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// One shipped inside `tap-rest`.
    Shipped(String),
    /// A definitions file.
    File(PathBuf),
}

/// A connector to write a pipeline for: how the file names it and its definitions.
#[derive(Debug)]
pub struct Connector {
    /// How `[tap]` names it.
    pub named: Named,
    /// Its definitions.
    pub defs: Definitions,
}

/// Finds the connector `typed` names: a shipped connector's name, else a file (`.toml` or a
/// path); `Err` is one line.
pub fn find(typed: &str) -> Result<Connector, String> {
    let looks_like_file = typed.ends_with(".toml") || typed.contains('/');
    if !looks_like_file && let Some(carried) = tap_rest::connector(typed) {
        let defs = Definitions::parse(carried.definitions, typed)
            .map_err(|e| format!("--connector {typed}: {}", one_line(&e.to_string())))?;
        let name = defs.connector.name.clone();
        return Ok(Connector {
            named: Named::Shipped(name),
            defs,
        });
    }
    if !looks_like_file {
        return Err(format!(
            "--connector {typed}: unknown connector (shipped: {}; or a definitions file, FILE.toml)",
            crate::tap_source::shipped_connectors().join(", ")
        ));
    }
    let path = PathBuf::from(typed);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("--connector {typed}: cannot read: {e}"))?;
    let defs = Definitions::parse(&text, typed)
        .map_err(|e| format!("--connector {}", one_line(&e.to_string())))?;
    Ok(Connector {
        named: Named::File(path),
        defs,
    })
}

/// `--set key=value` pairs checked against the connector's settings: each value typed as the
/// setting is (a list split on commas), then checked against its schema; `Err` holds one line
/// per problem, each naming the key.
pub fn values(defs: &Definitions, sets: &[String]) -> Result<Vec<(String, Value)>, Vec<String>> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut given: Vec<&str> = Vec::new();
    let mut problems = Vec::new();
    for typed in sets {
        let Some((key, text)) = typed.split_once('=') else {
            problems.push(format!("--set {typed}: write key=value"));
            continue;
        };
        let key = key.trim();
        given.push(key);
        let Some(setting) = defs.settings.get(key) else {
            problems.push(format!(
                "--set {key}: unknown setting of {} (settings: {})",
                defs.connector.name,
                defs.settings.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
            continue;
        };
        if setting.secret {
            problems.push(format!(
                "--set {key}: a secret is never written into the pipeline file; export {} instead",
                env_name(defs, key, setting)
            ));
            continue;
        }
        match typed_value(setting, text).and_then(|v| checked(setting, v)) {
            Ok(value) => {
                out.retain(|(k, _)| k != key);
                out.push((key.to_owned(), value));
            }
            Err(e) => problems.push(format!("--set {key}={text}: {e}")),
        }
    }
    let missing: Vec<&String> = defs
        .settings
        .iter()
        .filter(|(k, s)| needs_value(s) && !given.contains(&k.as_str()))
        .map(|(k, _)| k)
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "--connector {}: give {}",
            defs.connector.name,
            missing
                .iter()
                .map(|k| format!("--set {k}=VALUE ({})", describe(&defs.settings[*k])))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for group in &defs.connector.require_any {
        if !group.iter().any(|k| given.contains(&k.as_str())) {
            problems.push(format!(
                "--connector {}: give one of {}",
                defs.connector.name,
                group
                    .iter()
                    .map(|k| format!("--set {k}=VALUE"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A setting the config must give and nothing else provides (no default, no environment).
fn needs_value(s: &SettingDef) -> bool {
    s.required && !s.secret && s.default.is_none() && s.env.is_none()
}

fn typed_value(setting: &SettingDef, text: &str) -> Result<Value, String> {
    let parse = |kind: SettingType, text: &str| -> Result<Value, String> {
        match kind {
            SettingType::String => Ok(Value::String(text.to_owned())),
            SettingType::Array => Ok(Value::Array(
                text.split(',')
                    .map(|t| Value::String(t.trim().to_owned()))
                    .collect(),
            )),
            _ => serde_json::from_str(text.trim()).map_err(|_| {
                format!(
                    "not a {}",
                    serde_json::to_string(&kind_name(kind)).unwrap_or_default()
                )
            }),
        }
    };
    match (setting.kind, setting.items) {
        (SettingType::Array, Some(items)) if items != SettingType::String => text
            .split(',')
            .map(|t| parse(items, t))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (kind, _) => parse(kind, text),
    }
}

fn kind_name(kind: SettingType) -> &'static str {
    match kind {
        SettingType::String => "string",
        SettingType::Integer => "integer",
        SettingType::Number => "number",
        SettingType::Boolean => "boolean",
        SettingType::Array => "list",
        SettingType::Object => "JSON object",
    }
}

fn checked(setting: &SettingDef, value: Value) -> Result<Value, String> {
    let schema = setting.schema();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| e.to_string())?;
    let problem = validator
        .iter_errors(&value)
        .next()
        .map(|e| one_line(&e.to_string()));
    problem.map_or(Ok(value), Err)
}

/// The environment variable a secret is read from: the connector's own (`env`), else
/// `<CONNECTOR>_<SETTING>`.
fn env_name(defs: &Definitions, key: &str, setting: &SettingDef) -> String {
    setting.env.clone().unwrap_or_else(|| {
        format!("{}_{key}", defs.connector.name)
            .to_ascii_uppercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    })
}

fn describe(setting: &SettingDef) -> String {
    let text = setting.description.trim().trim_end_matches('.');
    if text.is_empty() {
        kind_name(setting.kind).to_owned()
    } else {
        text.to_owned()
    }
}

/// The `[tap]` line naming the connector, relative to the pipeline file's folder `dir`.
fn tap_line(named: &Named, dir: &Path) -> String {
    match named {
        Named::Shipped(name) => format!(
            "connector = \"{name}\"{}# shipped inside tap-rest (tapline carries it)",
            pad(&format!("connector = \"{name}\""))
        ),
        Named::File(path) => {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
            let shown = absolute.strip_prefix(&dir).unwrap_or(&absolute);
            let line = format!(
                "definitions = {}",
                toml_value(&Value::from(shown.display().to_string()))
            );
            format!(
                "{line}{}# run by tap-rest; relative to this file",
                pad(&line)
            )
        }
    }
}

fn pad(text: &str) -> String {
    " ".repeat(49usize.saturating_sub(text.chars().count()).max(1))
}

fn toml_value(value: &Value) -> String {
    toml::Value::try_from(value).map_or_else(|_| value.to_string(), |v| v.to_string())
}

/// The commented pipeline file for a connector other than GitHub's.
pub fn pipeline_text(
    connector: &Connector,
    dir: &Path,
    values: &[(String, Value)],
    start_date: Option<&str>,
) -> String {
    let defs = &connector.defs;
    let name = &defs.connector.name;
    let mut config = String::new();
    for (key, value) in values {
        let line = format!("{key} = {}", toml_value(value));
        config.push_str(&format!(
            "{line}{}# {}\n",
            pad(&line),
            describe(&defs.settings[key])
        ));
    }
    for (key, setting) in defs.settings.iter().filter(|(_, s)| s.secret) {
        let env = env_name(defs, key, setting);
        let fallback = if setting.required && setting.env.is_none() {
            ""
        } else {
            ":-"
        };
        let line = format!("{key} = \"${{{env}{fallback}}}\"");
        config.push_str(&format!(
            "{line}{}# secret: from the environment, never printed or stored by tapline\n",
            pad(&line)
        ));
    }
    for (key, setting) in &defs.settings {
        if setting.secret || values.iter().any(|(k, _)| k == key) {
            continue;
        }
        let example = setting
            .default
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "…".to_owned());
        let line = format!("# {key} = {example}");
        config.push_str(&format!("{line}{}# {}\n", pad(&line), describe(setting)));
    }
    let (line, note) = match start_date {
        Some(d) => (
            format!("start_date = \"{d}\""),
            "the first run reads nothing older",
        ),
        None => (
            "# start_date = \"2024-01-01T00:00:00Z\"".to_owned(),
            "default: everything the API has",
        ),
    };
    config.push_str(&format!("{line}{}# {note}\n", pad(&line)));
    let streams: Vec<&str> = defs.streams.iter().map(|s| s.name.as_str()).collect();
    let example: Vec<String> = streams.iter().take(2).map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"# tapline pipeline: {name} → SQLite. Run it with `tapline run`; history: `tapline runs`.
# Every string may use ${{VAR}} or ${{VAR:-default}} from the environment. Reference: README.md.
name = "{name}"{name_pad}# bookmarks and run history are kept under this name

[tap]
{tap}
# select = [{example}]{select_pad}# default: every stream ({streams})

[tap.config]
{config}
[target]
executable = "target-sqlite"                     # tapline carries its own copy

[target.config]
database = "data/{name}.db"

[state]
database = ".tapline/state.db"                   # bookmarks and run history
"#,
        name_pad = pad(&format!("name = \"{name}\"")),
        tap = tap_line(&connector.named, dir),
        example = example.join(", "),
        select_pad = pad(&format!("# select = [{}]", example.join(", "))),
        streams = streams.join(", "),
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
