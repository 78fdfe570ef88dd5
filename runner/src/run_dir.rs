//! The run's private temporary folder and the sweeping of folders that runs left behind.
//!
//! A folder is made only where a child's files cannot stay in memory ([`crate::handoff`]). It
//! is mode 0700 and its name records its owner: `tapline-<pid>-<start>-<random>`, with the
//! owner's start time from `/proc/<pid>/stat` (field 22), so a recycled PID is not mistaken for
//! the owner. A run removes its folder when it ends; one that was killed cannot, and the next run
//! of any pipeline [`sweep`]s it.

use std::io;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The start of every temporary folder name of tapline.
pub const PREFIX: &str = "tapline-";

/// Files that tapline versions before owner-named folders wrote into theirs.
const LEGACY_FILES: [&str; 4] = ["tap.json", "target.json", "state.json", "catalog.json"];

/// How old a folder of an earlier tapline (no owner in its name) must be to be swept: its
/// children read their files when they start, so a live run no longer needs them by then.
const LEGACY_AGE: Duration = Duration::from_secs(3600);

/// A process, told apart from a later one with the same PID by its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Start time in clock ticks after boot (`/proc/<pid>/stat` field 22).
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn me() -> io::Result<Self> {
        let pid = std::process::id();
        Self::of(pid).ok_or_else(|| io::Error::other("cannot read /proc/self/stat"))
    }

    /// Process `pid`, if it runs (a zombie has finished and counts as gone).
    pub fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Field 2, the command name, may hold spaces and parentheses: count after the last ')'.
        let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
        let state = fields.next()?;
        if state == "Z" || state == "X" {
            return None;
        }
        // Field 3 (state) was taken; field 22 is 19 further on.
        let start = fields.nth(18)?.parse().ok()?;
        Some(Self { pid, start })
    }

    /// Whether this very process still runs.
    pub fn alive(self) -> bool {
        Self::of(self.pid) == Some(self)
    }

    /// The owner recorded in a folder name made by [`RunDir::create_in`].
    pub fn from_folder_name(name: &str) -> Option<Self> {
        let mut parts = name.strip_prefix(PREFIX)?.splitn(3, '-');
        let pid = parts.next()?.parse().ok()?;
        let start = parts.next()?.parse().ok()?;
        parts.next().filter(|random| !random.is_empty())?;
        Some(Self { pid, start })
    }
}

/// A private folder owned by this run, removed when dropped.
#[derive(Debug)]
pub struct RunDir {
    dir: tempfile::TempDir,
}

impl RunDir {
    /// Makes a folder (0700) in `parent` whose name records this process as its owner.
    pub fn create_in(parent: &Path) -> io::Result<Self> {
        let owner = Owner::me()?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-{}-", owner.pid, owner.start))
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(parent)?;
        Ok(Self { dir })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Removes the folders in `parent` left by tapline runs that are gone: an owner whose PID is dead
/// or now names another process, or a folder of an earlier tapline older than an hour. Returns
/// the folders removed; only folders of the current user are looked at.
pub fn sweep(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let uid = nix::unistd::geteuid().as_raw();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| n.starts_with(PREFIX)) else {
            continue;
        };
        let path = entry.path();
        // Not followed: a link is never a folder of ours.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != uid {
            continue;
        }
        let gone = match Owner::from_folder_name(name) {
            Some(owner) => !owner.alive(),
            None => is_stale_legacy(name, &path, &meta),
        };
        if gone && std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// A folder of a tapline before owner-named folders (`tapline-` and six random characters),
/// holding only the files it wrote, and old enough that no live run reads them.
fn is_stale_legacy(name: &str, path: &Path, meta: &std::fs::Metadata) -> bool {
    let random = &name[PREFIX.len()..];
    if random.len() != 6 || !random.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let old = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age >= LEGACY_AGE);
    let ours = std::fs::read_dir(path).is_ok_and(|files| {
        files.flatten().all(|f| {
            f.file_name()
                .to_str()
                .is_some_and(|n| LEGACY_FILES.contains(&n))
        })
    });
    old && ours
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn the_folder_is_private_and_names_its_owner() {
        let parent = tempfile::tempdir().expect("tempdir");
        let dir = RunDir::create_in(parent.path()).expect("creates");
        let mode = std::fs::metadata(dir.path())
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let name = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        assert_eq!(
            Owner::from_folder_name(name),
            Some(Owner::me().expect("me"))
        );
        assert!(Owner::me().expect("me").alive());
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists(), "removed when the run ends");
    }

    fn which_sleep() -> &'static str {
        ["/usr/bin/sleep", "/bin/sleep"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("sleep is installed")
    }

    #[test]
    fn start_time_is_field_22_whatever_the_command_name() {
        // A name with spaces and a parenthesis shifts naive field counting.
        let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
        let want: u64 = stat
            .rsplit_once(')')
            .expect("comm")
            .1
            .split_whitespace()
            .nth(19)
            .expect("field 22")
            .parse()
            .expect("number");
        assert_eq!(Owner::me().expect("me").start, want);
        // The kernel's command name is the executed file's name: a link to `sleep` named oddly.
        let dir = tempfile::tempdir().expect("tempdir");
        let odd = dir.path().join("o) d x");
        std::os::unix::fs::symlink(which_sleep(), &odd).expect("links sleep");
        let mut child = Command::new(&odd).arg("30").spawn().expect("spawns");
        let owner = Owner::of(child.id()).expect("runs");
        assert!(owner.start >= want);
        child.kill().expect("kills");
        child.wait().expect("waits");
        assert!(!owner.alive());
    }

    #[test]
    fn names_that_are_not_an_owner() {
        for name in [
            "tapline",
            "tapline-abc123",
            "tapline-12-",
            "tapline-12-34",
            "tapline-12-34-",
            "tapline-x-34-abc",
            "other-12-34-abc",
        ] {
            assert_eq!(Owner::from_folder_name(name), None, "{name}");
        }
        assert_eq!(
            Owner::from_folder_name("tapline-12-34-a-b"),
            Some(Owner { pid: 12, start: 34 })
        );
    }

    #[test]
    fn sweep_removes_only_folders_whose_owner_is_gone() {
        let parent = tempfile::tempdir().expect("tempdir");
        let me = Owner::me().expect("me");
        let mut dead = Command::new("true").spawn().expect("spawns");
        let dead_pid = dead.id();
        dead.wait().expect("waits");
        let folder = |name: String| {
            let path = parent.path().join(name);
            std::fs::create_dir(&path).expect("mkdir");
            std::fs::write(path.join("tap.json"), "{}").expect("write");
            path
        };
        let live = RunDir::create_in(parent.path()).expect("creates");
        let other_live = folder(format!("{PREFIX}{}-{}-x1", me.pid, me.start));
        let dead_pid_folder = folder(format!("{PREFIX}{dead_pid}-{}-x2", me.start));
        let recycled = folder(format!("{PREFIX}{}-{}-x3", me.pid, me.start + 1));
        let fresh_legacy = folder(format!("{PREFIX}abc123"));
        let not_ours = folder("tapline".to_string());
        let mut removed = sweep(parent.path());
        removed.sort();
        let mut want = vec![dead_pid_folder, recycled];
        want.sort();
        assert_eq!(removed, want);
        for kept in [live.path(), &other_live, &fresh_legacy, &not_ours] {
            assert!(kept.exists(), "{} kept", kept.display());
        }
    }

    #[test]
    fn an_old_legacy_folder_holding_only_its_files_is_swept() {
        let parent = tempfile::tempdir().expect("tempdir");
        let make = |name: &str, files: &[&str]| {
            let path = parent.path().join(name);
            std::fs::create_dir(&path).expect("mkdir");
            for file in files {
                std::fs::write(path.join(file), "{}").expect("write");
            }
            let old = SystemTime::now() - LEGACY_AGE - Duration::from_secs(60);
            std::fs::File::open(&path)
                .and_then(|f| f.set_modified(old))
                .expect("mtime");
            path
        };
        let legacy = make("tapline-Ab12Cd", &["tap.json", "target.json"]);
        let foreign = make("tapline-Xy34Zw", &["tap.json", "notes.txt"]);
        let longer = make("tapline-pg-abcdefgh", &["tap.json"]);
        assert_eq!(sweep(parent.path()), vec![legacy]);
        assert!(foreign.exists() && longer.exists());
    }
}
