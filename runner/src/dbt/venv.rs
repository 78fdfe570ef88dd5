//! The one dbt installer: a virtualenv at
//! `${XDG_CACHE_HOME:-~/.cache}/tapline/dbt-<first 12 hex of sha256(requirements.txt)>`, made with
//! `python3 -m venv` and `pip install -r requirements.txt`, reused when present.
//!
//! The install is atomic: it happens in a temporary folder next to the final one
//! (`dbt-<hash>.tmp-<pid>`), which is renamed into place only once pip succeeded, `bin/dbt`
//! exists and a marker is written. A killed install therefore leaves at most a `.tmp-` folder
//! (removed by the next install), never a half venv under the final name. A file lock
//! (`dbt-<hash>.lock`) makes concurrent installers wait for each other instead of downloading
//! twice. Venvs hold their own absolute path in scripts (`bin/dbt`'s `#!` line, `activate`), so
//! before the rename those files are rewritten from the temporary path to the final one, and pip
//! runs with `--no-compile` (bytecode is then written under the final path on first use).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

/// Written last, before the rename: its presence means the venv is complete.
const MARKER: &str = ".tapline-complete";

/// The oldest Python dbt 1.10/1.11 supports.
const MIN_PYTHON: (u32, u32) = (3, 10);

/// First 12 hex digits of the sha256 of a requirements file's content.
pub fn requirements_hash(requirements: &[u8]) -> String {
    Sha256::digest(requirements)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The venv folder for a requirements file's content, under [`cache_dir`].
pub fn venv_dir(requirements: &[u8]) -> PathBuf {
    venv_dir_in(&cache_dir(), requirements)
}

/// The venv folder for a requirements file's content under a given cache folder.
pub fn venv_dir_in(cache: &Path, requirements: &[u8]) -> PathBuf {
    cache.join(format!("dbt-{}", requirements_hash(requirements)))
}

/// `${XDG_CACHE_HOME:-~/.cache}/tapline`.
pub fn cache_dir() -> PathBuf {
    cache_dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

/// [`cache_dir`] from the values of `XDG_CACHE_HOME` and `HOME` (an empty value counts as unset;
/// with neither, the system's temporary folder).
pub fn cache_dir_from(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> PathBuf {
    let base = xdg_cache_home
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            home.filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("tapline")
}

/// The `dbt` executable inside a venv.
pub fn dbt_in(venv: &Path) -> PathBuf {
    venv.join("bin").join("dbt")
}

/// Whether the venv for these requirements is installed.
pub fn is_installed(requirements: &[u8]) -> bool {
    is_complete(&venv_dir(requirements))
}

fn is_complete(dir: &Path) -> bool {
    dir.join(MARKER).is_file() && dbt_in(dir).is_file()
}

/// The Python that creates venvs: `TAPLINE_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("TAPLINE_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// Installs the venv for `requirements_file` unless it is there; returns its folder.
/// `say` receives progress lines for the user.
pub fn ensure(requirements_file: &Path, say: &mut dyn FnMut(&str)) -> anyhow::Result<PathBuf> {
    ensure_in(&cache_dir(), &python(), requirements_file, say)
}

/// [`ensure`] with an explicit cache folder and Python.
pub fn ensure_in(
    cache: &Path,
    python: &str,
    requirements_file: &Path,
    say: &mut dyn FnMut(&str),
) -> anyhow::Result<PathBuf> {
    let requirements = std::fs::read(requirements_file)
        .with_context(|| format!("reading {}", requirements_file.display()))?;
    let dir = venv_dir_in(cache, &requirements);
    if is_complete(&dir) {
        return Ok(dir);
    }
    std::fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("venv folder has no name")?
        .to_string();
    let lock_path = cache.join(format!("{name}.lock"));
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    if is_complete(&dir) {
        // Another process installed it while we waited.
        return Ok(dir);
    }
    // Under the lock nobody else is installing: whatever is left is from a killed install.
    remove_leftovers(cache, &name, &dir)?;
    check_python(python)?;
    say(&format!(
        "installing dbt into {} (once; a minute or so)",
        dir.display()
    ));
    let tmp = cache.join(format!("{name}.tmp-{}", std::process::id()));
    let installed = install_into(&tmp, &dir, python, requirements_file, &requirements);
    if let Err(e) = installed {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &dir)
        .with_context(|| format!("moving the new venv {} to {}", tmp.display(), dir.display()))?;
    say("dbt installed");
    Ok(dir)
}

/// Removes `<name>.tmp-*` folders and an unfinished `dir` (one without the marker).
fn remove_leftovers(cache: &Path, name: &str, dir: &Path) -> anyhow::Result<()> {
    let prefix = format!("{name}.tmp-");
    let entries =
        std::fs::read_dir(cache).with_context(|| format!("listing {}", cache.display()))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing the unfinished {}", path.display()))?;
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the unfinished {}", dir.display()))?;
    }
    Ok(())
}

/// Fails with a clear message unless `python` runs and is 3.10 or newer with `venv`.
fn check_python(python: &str) -> anyhow::Result<()> {
    let script = format!(
        "import sys, venv; print('%d.%d' % sys.version_info[:2]); sys.exit(sys.version_info[:2] < {MIN_PYTHON:?})"
    );
    let out = Command::new(python)
        .args(["-c", &script])
        .output()
        .with_context(|| {
            format!(
                "dbt needs Python {}.{}+ but `{python}` cannot be run (install python3 with its \
                 venv module, or set TAPLINE_PYTHON)",
                MIN_PYTHON.0, MIN_PYTHON.1
            )
        })?;
    if !out.status.success() {
        bail!(
            "dbt needs Python {}.{}+ with the venv module; `{python}` reports {}{}",
            MIN_PYTHON.0,
            MIN_PYTHON.1,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `python -m venv tmp`, pip install, paths rewritten to `dir`, marker: everything but the rename.
fn install_into(
    tmp: &Path,
    dir: &Path,
    python: &str,
    requirements_file: &Path,
    requirements: &[u8],
) -> anyhow::Result<()> {
    // The prompt `activate` shows is the final folder's name, not the temporary one's.
    let prompt = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let status = Command::new(python)
        .args(["-m", "venv"])
        .arg(tmp)
        .args(["--prompt", prompt.as_deref().unwrap_or("tapline-dbt")])
        .status()
        .with_context(|| format!("running `{python} -m venv`"))?;
    if !status.success() {
        bail!(
            "`{python} -m venv {}` failed ({status}); on Debian/Ubuntu install python3-venv",
            tmp.display()
        );
    }
    let venv_python = tmp.join("bin").join("python");
    let status = Command::new(&venv_python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--no-compile",
            "-r",
        ])
        .arg(requirements_file)
        .status()
        .with_context(|| format!("running {} -m pip", venv_python.display()))?;
    if !status.success() {
        bail!(
            "`pip install -r {}` failed ({status})",
            requirements_file.display()
        );
    }
    relocate(tmp, dir)?;
    if !dbt_in(tmp).is_file() {
        bail!(
            "pip installed {} but it has no bin/dbt",
            requirements_file.display()
        );
    }
    std::fs::write(tmp.join(MARKER), requirements)
        .with_context(|| format!("finishing {}", tmp.display()))?;
    Ok(())
}

/// Rewrites the venv's own path from `from` to `to` in `bin/` scripts (`#!` lines, `activate`)
/// and `pyvenv.cfg`. Symlinks (`bin/python`) and binaries without the path are left alone.
pub fn relocate(from: &Path, to: &Path) -> anyhow::Result<()> {
    let old = from.as_os_str().as_encoded_bytes();
    let new = to.as_os_str().as_encoded_bytes();
    let bin = from.join("bin");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&bin)
        .with_context(|| format!("listing {}", bin.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.push(from.join("pyvenv.cfg"));
    for file in files {
        let Ok(meta) = std::fs::symlink_metadata(&file) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        if let Some(rewritten) = replace_all(&bytes, old, new) {
            // Truncating write: the file keeps its permissions.
            std::fs::write(&file, rewritten)
                .with_context(|| format!("rewriting {}", file.display()))?;
        }
    }
    Ok(())
}

/// `haystack` with every `old` replaced by `new`, or `None` when `old` does not occur.
fn replace_all(haystack: &[u8], old: &[u8], new: &[u8]) -> Option<Vec<u8>> {
    if old.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    let mut found = false;
    while i < haystack.len() {
        if haystack[i..].starts_with(old) {
            out.extend_from_slice(new);
            i += old.len();
            found = true;
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn folder_is_named_by_the_first_12_hex_of_the_requirements_sha256() {
        // sha256("dbt-sqlite==1.10.0\n"), checked with `sha256sum`.
        let hash = requirements_hash(b"dbt-sqlite==1.10.0\n");
        assert_eq!(hash.len(), 12);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        let full: String = Sha256::digest(b"dbt-sqlite==1.10.0\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(full.starts_with(&hash));
        assert_eq!(requirements_hash(b""), "e3b0c44298fc");
        let dir = venv_dir_in(Path::new("/c/tapline"), b"");
        assert_eq!(dir, PathBuf::from("/c/tapline/dbt-e3b0c44298fc"));
        assert_ne!(venv_dir(b"a"), venv_dir(b"b"));
    }

    #[test]
    fn cache_dir_follows_xdg_then_home() {
        assert_eq!(
            cache_dir_from(Some("/x".into()), Some("/h".into())),
            PathBuf::from("/x/tapline")
        );
        assert_eq!(
            cache_dir_from(Some("".into()), Some("/h".into())),
            PathBuf::from("/h/.cache/tapline")
        );
        assert_eq!(
            cache_dir_from(None, Some("/h".into())),
            PathBuf::from("/h/.cache/tapline")
        );
        assert_eq!(
            cache_dir_from(None, None),
            std::env::temp_dir().join("tapline")
        );
    }

    #[test]
    fn replace_all_replaces_every_occurrence_or_says_none() {
        assert_eq!(
            replace_all(b"a/tmp/b /tmp", b"/tmp", b"/v"),
            Some(b"a/v/b /v".to_vec())
        );
        assert_eq!(replace_all(b"nothing", b"/tmp", b"/v"), None);
        assert_eq!(replace_all(b"x", b"", b"/v"), None);
    }

    #[test]
    fn relocate_rewrites_scripts_and_leaves_symlinks() {
        let root = tempfile::tempdir().unwrap();
        let from = root.path().join("dbt-abc.tmp-1");
        let to = root.path().join("dbt-abc");
        std::fs::create_dir_all(from.join("bin")).unwrap();
        let script = from.join("bin/dbt");
        std::fs::write(
            &script,
            format!("#!{}/bin/python\nimport dbt\n", from.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            from.join("bin/activate"),
            format!("VIRTUAL_ENV=\"{}\"\n", from.display()),
        )
        .unwrap();
        std::fs::write(
            from.join("pyvenv.cfg"),
            format!("command = python3 -m venv {}\n", from.display()),
        )
        .unwrap();
        std::os::unix::fs::symlink("/usr/bin/python3", from.join("bin/python")).unwrap();
        relocate(&from, &to).unwrap();
        let dbt = std::fs::read_to_string(&script).unwrap();
        assert_eq!(dbt, format!("#!{}/bin/python\nimport dbt\n", to.display()));
        assert_eq!(
            std::fs::metadata(&script).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(
            std::fs::read_to_string(from.join("bin/activate"))
                .unwrap()
                .contains(&*to.to_string_lossy())
        );
        assert!(
            std::fs::read_to_string(from.join("pyvenv.cfg"))
                .unwrap()
                .ends_with("dbt-abc\n")
        );
        assert_eq!(
            std::fs::read_link(from.join("bin/python")).unwrap(),
            PathBuf::from("/usr/bin/python3")
        );
    }

    /// A stand-in for python3: `-c` (version check) succeeds; `-m venv DIR` makes DIR/bin/python
    /// (this script again); `-m pip install … -r FILE` writes bin/dbt with a `#!` line naming the
    /// venv, or fails when FILE contains "fail". Every call is logged to `$LOG`.
    fn fake_python(root: &Path) -> PathBuf {
        let path = root.join("fake-python3");
        let log = root.join("calls.log");
        let script = format!(
            r#"#!/bin/sh
echo "$0 $*" >> '{log}'
case "$1" in
  -c) echo 3.11; exit 0 ;;
esac
if [ "$2" = venv ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo "home = /usr/bin" > "$3/pyvenv.cfg"
  exit 0
fi
if [ "$2" = pip ]; then
  for last; do :; done
  grep -q fail "$last" && exit 1
  venv=$(dirname "$(dirname "$0")")
  printf '#!%s/bin/python\n' "$venv" > "$venv/bin/dbt" && chmod 755 "$venv/bin/dbt"
  exit 0
fi
exit 2
"#,
            log = log.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn installs_atomically_then_reuses() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache/tapline");
        let python = fake_python(root.path());
        let req = root.path().join("requirements.txt");
        std::fs::write(&req, "dbt-sqlite==1.10.0\n").unwrap();
        // A killed earlier install left a temporary folder and a half venv without the marker.
        let hash = requirements_hash(b"dbt-sqlite==1.10.0\n");
        std::fs::create_dir_all(cache.join(format!("dbt-{hash}.tmp-999999/bin"))).unwrap();
        std::fs::create_dir_all(cache.join(format!("dbt-{hash}/bin"))).unwrap();
        assert!(!is_complete(&cache.join(format!("dbt-{hash}"))));

        let mut said = Vec::new();
        let dir = ensure_in(&cache, python.to_str().unwrap(), &req, &mut |l| {
            said.push(l.to_string())
        })
        .unwrap();
        assert_eq!(dir, cache.join(format!("dbt-{hash}")));
        assert!(is_complete(&dir));
        // The script names the final folder, not the temporary one it was installed into.
        let dbt = std::fs::read_to_string(dbt_in(&dir)).unwrap();
        assert_eq!(dbt, format!("#!{}/bin/python\n", dir.display()));
        let names: Vec<String> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names.iter().any(|n| n.contains(".tmp-")),
            "leftovers: {names:?}"
        );
        assert_eq!(said.len(), 2, "{said:?}");

        // Present: reused without running Python at all.
        let calls = std::fs::read_to_string(root.path().join("calls.log")).unwrap();
        let again = ensure_in(&cache, "/nonexistent/python3", &req, &mut |_| {}).unwrap();
        assert_eq!(again, dir);
        assert_eq!(
            std::fs::read_to_string(root.path().join("calls.log")).unwrap(),
            calls
        );
    }

    #[test]
    fn a_failed_install_leaves_nothing_that_looks_ready() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("tapline");
        let python = fake_python(root.path());
        let req = root.path().join("requirements.txt");
        std::fs::write(&req, "fail==1\n").unwrap();
        let err = ensure_in(&cache, python.to_str().unwrap(), &req, &mut |_| {}).unwrap_err();
        assert!(format!("{err:#}").contains("pip install"), "{err:#}");
        let names: Vec<String> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| n.ends_with(".lock")),
            "left behind: {names:?}"
        );
    }

    #[test]
    fn a_missing_python_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let req = root.path().join("requirements.txt");
        std::fs::write(&req, "x\n").unwrap();
        let err = ensure_in(root.path(), "/nonexistent/python3", &req, &mut |_| {}).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("Python 3.10+") && msg.contains("TAPLINE_PYTHON"),
            "{msg}"
        );
    }
}
