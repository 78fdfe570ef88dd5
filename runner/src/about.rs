//! A program's config schema, from its `--about --format json` (`settings`), cached per
//! executable path and modification time, and per arguments (a connector's `--definitions`,
//! with the time of a definitions file), in the pipeline folder: a Python tap's `--about` costs
//! seconds, and singer-io taps have none (they are remembered as having none and not checked).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Longest an `--about` may take before the program is treated as having none.
const ABOUT_TIMEOUT: Duration = Duration::from_secs(20);

/// The config JSON Schema `executable` (started with `args` first) reports with `--about
/// --format json`, or `None` when it reports none; `cache` is the folder where answers are kept.
pub fn settings_schema(executable: &Path, args: &[OsString], cache: &Path) -> Option<Value> {
    let file = cache_file(executable, args, cache);
    if let Some(cached) = file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    {
        return cached.get("settings").cloned().filter(Value::is_object);
    }
    let settings = ask(executable, args);
    if let Some(file) = file {
        store(&file, &serde_json::json!({ "settings": settings }));
    }
    settings
}

/// `<cache>/<sha256 of the path, its mtime, the arguments and the mtime of those that are
/// files>.json`; `None` when the program's time cannot be read.
fn cache_file(executable: &Path, args: &[OsString], cache: &Path) -> Option<PathBuf> {
    let mut hash = Sha256::new();
    hash.update(executable.as_os_str().as_encoded_bytes());
    hash.update(modified_nanos(executable)?.to_le_bytes());
    for arg in args {
        hash.update(arg.len().to_le_bytes());
        hash.update(arg.as_encoded_bytes());
        hash.update(modified_nanos(Path::new(arg)).unwrap_or(0).to_le_bytes());
    }
    let digest: String = hash
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(cache.join(format!("{digest}.json")))
}

fn modified_nanos(file: &Path) -> Option<u128> {
    let modified = file.metadata().ok()?.modified().ok()?;
    Some(modified.duration_since(UNIX_EPOCH).ok()?.as_nanos())
}

/// Runs `--about --format json` and takes the `settings` of the first JSON value it prints. The
/// program is stopped (its whole process group) once that value is read, when it prints
/// something else, or after [`ABOUT_TIMEOUT`]: a program that does not know `--about` may have
/// started doing something else entirely.
fn ask(executable: &Path, args: &[OsString]) -> Option<Value> {
    let mut child = crate::process::spawn(
        Command::new(executable)
            .args(args)
            .args(["--about", "--format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )
    .ok()?;
    let mut stdout = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    // Detached: it ends when the program's group is gone and the pipe closes.
    std::thread::spawn(move || {
        let mut chunk = [0u8; 1 << 14];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut chunk) {
            if n == 0 || tx.send(chunk[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let mut text = Vec::new();
    let answer = loop {
        let left = ABOUT_TIMEOUT.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(chunk) => {
                text.extend_from_slice(&chunk);
                match first_value(&text) {
                    Read::More => {}
                    Read::Value(v) => break Some(v),
                    Read::NotJson => break None,
                }
            }
            // End of output: what was printed is all there is.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match first_value(&text) {
                Read::Value(v) => break Some(v),
                _ => break None,
            },
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break None,
        }
    };
    crate::process::signal_group(&child, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    answer?.get("settings").cloned().filter(Value::is_object)
}

/// What the bytes read so far hold.
enum Read {
    /// Not a whole JSON value yet.
    More,
    /// The first JSON value.
    Value(Value),
    /// Something that is not JSON.
    NotJson,
}

fn first_value(text: &[u8]) -> Read {
    match serde_json::Deserializer::from_slice(text)
        .into_iter::<Value>()
        .next()
    {
        None => Read::More,
        Some(Ok(v)) => Read::Value(v),
        Some(Err(e)) if e.is_eof() => Read::More,
        Some(Err(_)) => Read::NotJson,
    }
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
        let asked = || {
            std::fs::read_to_string(&count)
                .unwrap_or_default()
                .lines()
                .count()
        };
        let expected = Some(serde_json::json!({"type": "object"}));
        assert_eq!(settings_schema(&exe, &[], &cache), expected);
        assert_eq!(settings_schema(&exe, &[], &cache), expected);
        assert_eq!(asked(), 1, "the second answer comes from the cache");
        std::thread::sleep(Duration::from_millis(20));
        script(
            dir.path(),
            "tap-x",
            &format!("echo x >> {}\necho '{{}}'", count.display()),
        );
        assert_eq!(
            settings_schema(&exe, &[], &cache),
            None,
            "a changed program is asked again"
        );
        assert_eq!(asked(), 2);
    }

    #[test]
    fn programs_started_with_other_arguments_are_cached_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache");
        let exe = script(
            dir.path(),
            "tap-rest",
            "echo \"{\\\"settings\\\":{\\\"title\\\":\\\"$2\\\"}}\"",
        );
        let defs = |name: &str| vec![OsString::from("--definitions"), OsString::from(name)];
        let title =
            |name: &str| settings_schema(&exe, &defs(name), &cache).map(|s| s["title"].clone());
        assert_eq!(title("gitlab"), Some(serde_json::json!("gitlab")));
        assert_eq!(title("jira"), Some(serde_json::json!("jira")));
        assert_eq!(title("gitlab"), Some(serde_json::json!("gitlab")));
        let file = dir.path().join("api.toml");
        let file = file.to_str().expect("utf-8");
        std::fs::write(file, "").expect("write");
        let first = cache_file(&exe, &defs(file), &cache);
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(file, "[connector]").expect("write");
        assert_ne!(
            cache_file(&exe, &defs(file), &cache),
            first,
            "an edited definitions file is asked again"
        );
    }

    #[test]
    fn a_program_without_about_has_no_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = script(
            dir.path(),
            "tap-old",
            "echo 'usage: tap-old --config' >&2\nexit 2",
        );
        assert_eq!(settings_schema(&exe, &[], dir.path()), None);
    }

    #[test]
    fn a_program_that_ignores_about_is_stopped_at_its_first_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = script(
            dir.path(),
            "tap-deaf",
            "echo '{\"type\":\"SCHEMA\",\"stream\":\"s\"}'\nsleep 30",
        );
        let started = Instant::now();
        assert_eq!(settings_schema(&exe, &[], dir.path()), None);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let exe = script(dir.path(), "tap-chatty", "echo 'starting up'\nsleep 30");
        assert_eq!(settings_schema(&exe, &[], dir.path()), None);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}
