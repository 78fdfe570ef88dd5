//! The one dbt installer: a virtualenv at
//! `${XDG_CACHE_HOME:-~/.cache}/tapline/dbt-<first 12 hex of sha256(requirements.txt)>`, made with
//! `python3 -m venv` and `pip install -r requirements.txt`, reused when present. The install runs
//! under a file lock and ends by writing a marker, so a killed install never looks ready.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

/// Written last: its presence means the venv is complete.
const MARKER: &str = ".tapline-complete";

/// The venv folder for a requirements file's content.
pub fn venv_dir(requirements: &[u8]) -> PathBuf {
    let digest = Sha256::digest(requirements);
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    cache_dir().join(format!("dbt-{hex}"))
}

/// `${XDG_CACHE_HOME:-~/.cache}/tapline`.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("tapline")
}

/// The `dbt` executable inside a venv.
pub fn dbt_in(venv: &Path) -> PathBuf {
    venv.join("bin").join("dbt")
}

/// Whether the venv for these requirements is installed.
pub fn is_installed(requirements: &[u8]) -> bool {
    venv_dir(requirements).join(MARKER).is_file()
}

/// Installs the venv for `requirements_file` unless it is there; returns its folder.
/// `say` receives progress lines for the user.
pub fn ensure(requirements_file: &Path, say: &mut dyn FnMut(&str)) -> anyhow::Result<PathBuf> {
    let requirements = std::fs::read(requirements_file)
        .with_context(|| format!("reading {}", requirements_file.display()))?;
    let dir = venv_dir(&requirements);
    if dir.join(MARKER).is_file() {
        return Ok(dir);
    }
    let parent = dir.parent().context("venv folder has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    if dir.join(MARKER).is_file() {
        // Another process installed it while we waited.
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("removing the unfinished {}", dir.display()))?;
    }
    say(&format!(
        "installing dbt into {} (once; a minute or so)",
        dir.display()
    ));
    let python = std::env::var("TAPLINE_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let status = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&dir)
        .status()
        .with_context(|| format!("running `{python} -m venv`: is Python 3.10+ installed? (set TAPLINE_PYTHON to use another)"))?;
    if !status.success() {
        bail!("`{python} -m venv {}` failed ({status})", dir.display());
    }
    let pip = dir.join("bin").join("pip");
    let status = Command::new(&pip)
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(requirements_file)
        .status()
        .with_context(|| format!("running {}", pip.display()))?;
    if !status.success() {
        bail!(
            "installing {} failed ({status})",
            requirements_file.display()
        );
    }
    std::fs::write(dir.join(MARKER), &requirements)
        .with_context(|| format!("finishing {}", dir.display()))?;
    say("dbt installed");
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_is_named_by_the_requirements_hash() {
        let dir = venv_dir(b"dbt-sqlite==1.10.0\n");
        let name = dir.file_name().and_then(|n| n.to_str()).expect("name");
        // sha256("dbt-sqlite==1.10.0\n") starts with these 12 hex digits.
        let digest = Sha256::digest(b"dbt-sqlite==1.10.0\n");
        let want: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        assert_eq!(name, format!("dbt-{want}"));
        assert_eq!(name.len(), 16);
        assert_ne!(venv_dir(b"a"), venv_dir(b"b"));
        assert!(dir.parent().is_some_and(|p| p.ends_with("tapline")));
    }
}
