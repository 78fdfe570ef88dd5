//! The Meltano side: `meltano run tap-github target-csv` with MeltanoLabs tap-github and
//! MeltanoLabs target-csv as plugins without `pip_url`, their executables in the interop
//! suite's pinned venvs; then, when dbt is on, [`DBT_BUILD`] of the same project with the same dbt
//! as tapline's, on a copy of the SQLite database the tapline side loaded (dbt cannot read CSV).

use std::path::{Path, PathBuf};
use std::process::Command;

use fake_github::RunningFake;

use super::{DBT_BUILD, REPOS, Side, checked, copy_dbt_project, fresh_dir, ours::Tapline};

/// The state id of `meltano run tap-github target-csv` in environment `bench`.
const STATE_ID: &str = "bench:tap-github-to-target-csv";

/// Meltano's project folder and the programs it runs.
pub struct Meltano {
    dir: PathBuf,
    meltano: PathBuf,
    tap: PathBuf,
    target: PathBuf,
    dbt: PathBuf,
    database: PathBuf,
    with_dbt: bool,
}

/// The venv of `tests/interop/requirements-NAME.txt` (installed on first use by `venv.sh`).
fn interop_venv(name: &str) -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/venv.sh");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && interop_venv {name}",
            script.display()
        ))
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "installing {name}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

impl Meltano {
    /// Finds (or installs) the pinned venvs and the tapline side's dbt.
    pub fn new(dir: &Path, tapline: &Tapline) -> Result<Meltano, String> {
        let meltano = interop_venv("meltano")?.join("bin/meltano");
        let tap = interop_venv("meltanolabs-tap-github")?.join("bin/tap-github");
        let target = interop_venv("sdk-target")?.join("bin/target-csv");
        Ok(Meltano {
            dir: dir.to_path_buf(),
            meltano,
            tap,
            target,
            dbt: tapline.dbt_executable(),
            database: tapline.database(),
            with_dbt: false,
        })
    }

    fn meltano(&self) -> Command {
        let mut cmd = Command::new(&self.meltano);
        cmd.current_dir(&self.dir)
            .env("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("NO_COLOR", "1");
        // MeltanoLabs tap-github checks every token it is given against api.github.com: give none.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GITHUB_TOKEN") {
                cmd.env_remove(key);
            }
        }
        cmd
    }
}

impl Side for Meltano {
    fn name(&self) -> String {
        "meltano run (MeltanoLabs tap-github 1.30.1 → target-csv 0.5.0)".into()
    }

    fn reset(&mut self, fake: &RunningFake, dbt: bool) {
        // Meltano's own database (`.meltano/`) stays: only the state and the output go.
        std::fs::create_dir_all(&self.dir).unwrap();
        let repos: Vec<String> = REPOS.iter().map(|r| format!("\"{r}\"")).collect();
        let yml = format!(
            r#"project_id: tapline-pipeline-bench
default_environment: bench
send_anonymous_usage_stats: false
environments:
- name: bench
plugins:
  extractors:
  - name: tap-github
    namespace: tap_github
    executable: {tap}
    capabilities: [catalog, discover, state, about]
    settings:
    - name: repositories
      kind: array
    - name: start_date
      kind: date_iso8601
    - name: api_url_base
      kind: string
    config:
      repositories: [{repos}]
      start_date: '2000-01-01T00:00:00Z'
      api_url_base: {url}
    select:
    - commits.*
    - issues.*
  loaders:
  - name: target-csv
    namespace: target_csv
    executable: {target}
    capabilities: [about]
    settings:
    - name: output_path
      kind: string
    config:
      output_path: {out}
"#,
            tap = self.tap.display(),
            repos = repos.join(", "),
            url = fake.api_url(),
            target = self.target.display(),
            out = self.dir.join("output").display(),
        );
        std::fs::write(self.dir.join("meltano.yml"), yml).unwrap();
        fresh_dir(&self.dir.join("output"));
        // Fails when there is no state yet, which is as good.
        let _ = self
            .meltano()
            .args([
                "--environment",
                "bench",
                "state",
                "clear",
                "--force",
                STATE_ID,
            ])
            .output();
        self.with_dbt = dbt;
        if dbt {
            copy_dbt_project(&fresh_dir(&self.dir.join("dbt")));
            let raw = fresh_dir(&self.dir.join("raw"));
            for suffix in ["", "-wal"] {
                let from = PathBuf::from(format!("{}{suffix}", self.database.display()));
                if from.exists() {
                    std::fs::copy(&from, raw.join(format!("github.db{suffix}"))).unwrap();
                }
            }
            std::fs::create_dir_all(self.dir.join("raw/github_dbt")).unwrap();
        }
    }

    fn run(&mut self) {
        checked(
            "meltano run",
            self.meltano().args(["run", "tap-github", "target-csv"]),
        );
        if self.with_dbt {
            let project = self.dir.join("dbt");
            checked(
                "dbt build",
                Command::new(&self.dbt)
                    .args(DBT_BUILD.split_whitespace())
                    .arg("--project-dir")
                    .arg(&project)
                    .arg("--profiles-dir")
                    .arg(&project)
                    .env("TAPLINE_DATABASE", self.dir.join("raw/github.db"))
                    .env("TAPLINE_DBT_SCHEMA_DIR", self.dir.join("raw/github_dbt"))
                    .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
            );
        }
    }
}
