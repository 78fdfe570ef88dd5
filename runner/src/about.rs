//! A program's config schema, from its `--about --format json` (`settings`), cached per
//! executable path and modification time in the pipeline folder: a Python tap's `--about` costs
//! seconds, and singer-io taps have none (they are remembered as having none and not checked).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Longest an `--about` may take before the program is treated as having none.
const ABOUT_TIMEOUT: Duration = Duration::from_secs(60);

/// The config JSON Schema `executable` reports with `--about --format json`, or `None` when it
/// reports none; `cache` is the folder where answers are kept.
pub fn settings_schema(executable: &Path, cache: &Path) -> Option<Value> {
    let file = cache_file(executable, cache);
    if let Some(cached) = file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    {
        return cached.get("settings").cloned().filter(Value::is_object);
    }
    let settings = ask(executable);
    if let Some(file) = file {
        store(&file, &serde_json::json!({ "settings": settings }));
    }
    settings
}

/// `<cache>/<sha256 of the path and mtime>.json`; `None` when the file's time cannot be read.
fn cache_file(executable: &Path, cache: &Path) -> Option<PathBuf> {
    let modified = executable.metadata().ok()?.modified().ok()?;
    let nanos = modified.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    let mut hash = Sha256::new();
    hash.update(executable.as_os_str().as_encoded_bytes());
    hash.update(nanos.to_le_bytes());
    let digest: String = hash
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(cache.join(format!("{digest}.json")))
}

/// Runs `--about --format json` and takes its `settings`, with a time limit.
fn ask(executable: &Path) -> Option<Value> {
    let mut child = Command::new(executable)
        .args(["--about", "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut text).map(|_| text)
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < ABOUT_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let text = reader.join().ok()?.ok()?;
    if !status?.success() {
        return None;
    }
    let about: Value = serde_json::from_slice(&text).ok()?;
    about.get("settings").cloned().filter(Value::is_object)
}

/// Writes `value` to `file` whole (another run may read it meanwhile); a failure only costs the
/// next run another `--about`.
fn store(file: &Path, value: &Value) {
    let Some(dir) = file.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    if serde_json::to_writer(&mut tmp, value).is_ok() {
        let _ = tmp.persist(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    fn the_answer_is_cached_until_the_program_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache");
        let count = dir.path().join("count");
        let exe = script(
            dir.path(),
            "tap-x",
            &format!(
                "echo x >> {}\necho '{{\"name\":\"tap-x\",\"settings\":{{\"type\":\"object\"}}}}'",
                count.display()
            ),
        );
        let asked = || std::fs::read_to_string(&count).unwrap_or_default().lines().count();
        let expected = Some(serde_json::json!({"type": "object"}));
        assert_eq!(settings_schema(&exe, &cache), expected);
        assert_eq!(settings_schema(&exe, &cache), expected);
        assert_eq!(asked(), 1, "the second answer comes from the cache");
        std::thread::sleep(Duration::from_millis(20));
        script(
            dir.path(),
            "tap-x",
            &format!("echo x >> {}\necho '{{}}'", count.display()),
        );
        assert_eq!(settings_schema(&exe, &cache), None, "a changed program is asked again");
        assert_eq!(asked(), 2);
    }

    #[test]
    fn a_program_without_about_has_no_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = script(dir.path(), "tap-old", "echo 'usage: tap-old --config' >&2\nexit 2");
        assert_eq!(settings_schema(&exe, dir.path()), None);
    }
}
