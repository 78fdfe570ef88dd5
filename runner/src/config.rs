//! The pipeline file (`tapline.toml`) as serde data: what the user writes, nothing resolved.
//! [`crate::plan`] turns it into something runnable.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A pipeline: one tap into one target, then dbt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// State id: bookmarks and run history are kept under this name.
    pub name: String,
    /// The extractor.
    pub tap: Tap,
    /// The loader.
    pub target: Target,
    /// dbt after a successful load; leave out or set `commands = []` to skip.
    #[serde(default)]
    pub dbt: Option<Dbt>,
    /// Where bookmarks and run history live.
    #[serde(default)]
    pub state: StateSettings,
}

/// The `[tap]` section. The tap is named one way: `executable` alone, or `connector`, or
/// `definitions` (with `executable` only to name another `tap-rest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tap {
    /// A path, or a name found next to `tapline`, then on `PATH`; with `definitions`, the
    /// `tap-rest` to run them (default `tap-rest`).
    #[serde(default)]
    pub executable: Option<String>,
    /// A connector shipped inside `tap-rest` (`github`, …): runs `tap-rest --definitions NAME`.
    #[serde(default)]
    pub connector: Option<String>,
    /// A definitions file for `tap-rest`, relative to the pipeline file's folder: runs
    /// `tap-rest --definitions FILE`.
    #[serde(default)]
    pub definitions: Option<PathBuf>,
    /// The tap's config, passed as a JSON file.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Streams to sync: runs `--discover`, marks these selected and passes the catalog.
    #[serde(default)]
    pub select: Option<Vec<String>>,
    /// How the tap takes its catalog: `--catalog`, or `--properties` for older taps.
    #[serde(default)]
    pub catalog_flag: CatalogFlag,
    /// A JSON Schema file `config` is checked against, instead of the tap's `--about`.
    #[serde(default)]
    pub settings_schema: Option<PathBuf>,
}

/// The flag a tap reads its catalog from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CatalogFlag {
    /// `--catalog`, as current taps take it.
    #[default]
    #[serde(rename = "--catalog")]
    Catalog,
    /// `--properties`, as older singer-io taps take it.
    #[serde(rename = "--properties")]
    Properties,
}

impl CatalogFlag {
    /// The flag as typed on a command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogFlag::Catalog => "--catalog",
            CatalogFlag::Properties => "--properties",
        }
    }
}

/// The `[target]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// A path, or a name found next to `tapline`, then on `PATH`.
    pub executable: String,
    /// The target's config, passed as a JSON file.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// A JSON Schema file `config` is checked against, instead of the target's `--about`.
    #[serde(default)]
    pub settings_schema: Option<PathBuf>,
}

/// The `[dbt]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dbt {
    /// The dbt project folder (with `dbt_project.yml` and `profiles.yml`).
    #[serde(default = "default_project_dir")]
    pub project_dir: PathBuf,
    /// dbt commands run in order after a successful load; default `["build"]` (tests
    /// interleaved with models), e.g. `["run", "test"]`.
    #[serde(default = "default_commands")]
    pub commands: Vec<String>,
    /// A dbt of your own; default: the managed venv (`tapline dbt install`).
    #[serde(default)]
    pub executable: Option<String>,
    /// The SQLite database dbt reads; default: the target's `config.database`.
    #[serde(default)]
    pub database: Option<PathBuf>,
}

/// The `[state]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateSettings {
    /// SQLite file holding bookmarks and run history.
    #[serde(default = "default_state_database")]
    pub database: PathBuf,
    /// A PostgreSQL database instead (`postgres://user:pass@host/db` or `host=… dbname=…`),
    /// shared by runs on many machines; its password is masked everywhere.
    #[serde(default)]
    pub url: Option<String>,
}

impl Default for StateSettings {
    fn default() -> Self {
        Self {
            database: default_state_database(),
            url: None,
        }
    }
}

fn default_project_dir() -> PathBuf {
    PathBuf::from("dbt")
}

fn default_commands() -> Vec<String> {
    vec!["build".into()]
}

fn default_state_database() -> PathBuf {
    PathBuf::from(".tapline/state.db")
}

impl Pipeline {
    /// The pipeline file's JSON Schema, as checked in at `schemas/tapline.pipeline.json`.
    pub fn json_schema() -> Value {
        serde_json::to_value(schemars::schema_for!(Pipeline)).unwrap_or_default()
    }
}
