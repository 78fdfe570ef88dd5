//! tapline carries `tap-github`, `tap-rest` and `target-sqlite` inside it. Started under one of
//! their names (a link to tapline), it is that program; and a pipeline that names one of them
//! runs tapline's own copy when no such program is found next to tapline or on `PATH`. One
//! binary is then all that `cargo run --bin tapline -- demo` or a container needs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The programs tapline carries.
pub const BUILTINS: [&str; 3] = ["tap-github", "tap-rest", "target-sqlite"];

/// Runs the built-in program named by `argv0`'s file name, if it is one.
pub fn dispatch(argv0: &OsStr) -> Option<ExitCode> {
    match Path::new(argv0).file_name()?.to_str()? {
        "tap-github" => Some(tap_github::main()),
        "tap-rest" => Some(tap_rest::main(None)),
        "target-sqlite" => Some(target_sqlite::main()),
        _ => None,
    }
}

/// A link named `name` to the running tapline, in tapline's cache folder, made if needed.
pub fn link(name: &str) -> Option<PathBuf> {
    if !BUILTINS.contains(&name) {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let dir = crate::dbt::venv::cache_dir().join(format!("bin-{}", env!("CARGO_PKG_VERSION")));
    let path = dir.join(name);
    if std::fs::read_link(&path).is_ok_and(|target| target == exe) {
        return Some(path);
    }
    std::fs::create_dir_all(&dir).ok()?;
    // Made under a temporary name and renamed, so parallel runs never see a half-made link.
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&exe, &tmp).ok()?;
    std::fs::rename(&tmp, &path).ok()?;
    Some(path)
}
