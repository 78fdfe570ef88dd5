//! Finding the programs a pipeline names: a path, a program next to `tapline`, on `PATH`, or
//! tapline's built-in copy.

use std::path::{Path, PathBuf};

/// The name a program goes by: its file name (`/opt/bin/tap-x` → `tap-x`).
pub fn label_of(exe: &str) -> String {
    Path::new(exe)
        .file_name()
        .map_or_else(|| exe.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Finds an executable: a path (relative to `base`), else next to the running `tapline`, else on
/// `PATH`, else tapline's built-in copy ([`crate::builtin`]).
pub fn find_executable(name: &str, base: &Path) -> Option<PathBuf> {
    if name.contains('/') {
        let path = base.join(name);
        return path.is_file().then_some(path);
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(name)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    beside
        .into_iter()
        .chain(on_path)
        .find(|p| is_executable(p))
        .or_else(|| crate::builtin::link(name))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// [`find_executable`], or `exe` as given with a problem naming `key` when it is not found.
pub fn locate(exe: &str, base: &Path, key: &str, problems: &mut Vec<String>) -> PathBuf {
    find_executable(exe, base).unwrap_or_else(|| {
        problems.push(format!(
            "{key}: `{exe}` not found (a path, a program next to tapline, or on PATH)"
        ));
        PathBuf::from(exe)
    })
}
