//! The tapline side: `tapline run` of a pipeline file, tap-github → target-sqlite (tapline's
//! built-in copies, through links named for them), then [`DBT_BUILD`] when dbt is on.

use std::path::{Path, PathBuf};
use std::process::Command;

use fake_github::RunningFake;

use super::{DBT_BUILD, REPOS, Side, checked, copy_dbt_project, fresh_dir};

/// A pipeline folder: `tapline.toml`, the loaded `github.db`, the state database, dbt's project.
pub struct Tapline {
    dir: PathBuf,
    bin: PathBuf,
}

impl Tapline {
    /// Links `tap-github` and `target-sqlite` to the bench's `tapline` in `dir/bin`, so the
    /// pipeline runs this build's copies whatever else lies beside tapline or on `PATH`.
    pub fn new(dir: &Path) -> Tapline {
        let bin = fresh_dir(&dir.join("bin"));
        let tapline = Path::new(env!("CARGO_BIN_EXE_tapline"));
        for name in ["tap-github", "target-sqlite"] {
            std::os::unix::fs::symlink(tapline, bin.join(name)).unwrap();
        }
        Tapline {
            dir: dir.join("pipeline"),
            bin,
        }
    }

    /// The SQLite database the pipeline loads.
    pub fn database(&self) -> PathBuf {
        self.dir.join("github.db")
    }

    /// The managed dbt's executable (`tapline dbt install`), installed on first use.
    pub fn dbt_executable(&self) -> PathBuf {
        let out = checked(
            "tapline dbt install",
            Command::new(env!("CARGO_BIN_EXE_tapline")).args(["dbt", "install"]),
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    }
}

impl Side for Tapline {
    fn name(&self) -> String {
        "tapline run".into()
    }

    fn reset(&mut self, fake: &RunningFake, dbt: bool) {
        fresh_dir(&self.dir);
        let repos: Vec<String> = REPOS.iter().map(|r| format!("\"{r}\"")).collect();
        let mut text = format!(
            "name = \"bench\"\n\n[tap]\nexecutable = \"{}\"\nselect = [\"commits\", \"issues\"]\n\n[tap.config]\nrepositories = [{}]\nstart_date = \"2000-01-01T00:00:00Z\"\napi_url = \"{}\"\nauth_token = \"\"\n\n[target]\nexecutable = \"{}\"\n\n[target.config]\ndatabase = \"github.db\"\n\n[state]\ndatabase = \"state.db\"\n",
            self.bin.join("tap-github").display(),
            repos.join(", "),
            fake.api_url(),
            self.bin.join("target-sqlite").display(),
        );
        if dbt {
            copy_dbt_project(&self.dir.join("dbt"));
            text.push_str(&format!(
                "\n[dbt]\nproject_dir = \"dbt\"\ncommands = [\"{DBT_BUILD}\"]\n"
            ));
        }
        std::fs::write(self.dir.join("tapline.toml"), text).unwrap();
    }

    fn run(&mut self) {
        checked(
            "tapline run",
            Command::new(env!("CARGO_BIN_EXE_tapline"))
                .args(["run", "-q", "-c"])
                .arg(self.dir.join("tapline.toml"))
                .env_remove("GITHUB_TOKEN"),
        );
    }
}
