//! How a child gets its config, catalog and state without a secret ever being written to disk:
//! each file is an anonymous in-memory file (`memfd_create`), sealed once written, that only the
//! child it is handed to inherits; the child reads it as `/dev/fd/N` with its usual `--config
//! PATH`. A Rust or Python tap sees a regular file there, and may open it more than once.
//!
//! Where that is impossible (a kernel without memfd, or `TAPLINE_CONFIG_ON_DISK=1` for a child
//! that cannot read `/dev/fd`, such as a wrapper that copies its config into a container), the
//! files go into the run's private folder ([`RunDir`], 0700; files 0600), removed when the run
//! ends and swept by the next run if this one is killed.

use std::fs::File;
use std::io::{Seek as _, Write as _};
use std::os::fd::{AsFd as _, AsRawFd as _, OwnedFd};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use anyhow::Context as _;
use nix::fcntl::{FcntlArg, FdFlag, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};
use serde_json::Value;

use crate::run_dir::RunDir;

/// The environment variable that puts children's files on disk, in the run's private folder.
pub const ON_DISK_VAR: &str = "TAPLINE_CONFIG_ON_DISK";

/// Makes the files of one run's children.
#[derive(Debug)]
pub struct Handoff {
    on_disk: bool,
    dir: Option<RunDir>,
}

/// One JSON file for a child, given to it with [`ChildFile::pass_to`] and named by
/// [`ChildFile::path`].
#[derive(Debug)]
pub enum ChildFile {
    /// An anonymous in-memory file, closed on exec except in the children it is passed to.
    Memory(Arc<OwnedFd>),
    /// A file in the run's private folder.
    Disk(PathBuf),
}

impl Handoff {
    /// Files in memory, unless [`ON_DISK_VAR`] is set to anything but empty or `0`.
    pub fn from_env() -> Self {
        let on_disk = std::env::var_os(ON_DISK_VAR).is_some_and(|v| !v.is_empty() && v != "0");
        Self::new(on_disk)
    }

    /// Files in memory, or on disk when `on_disk`.
    pub fn new(on_disk: bool) -> Self {
        Self { on_disk, dir: None }
    }

    /// `value` as a file named `name` (the name shows in `/proc/<pid>/fd` or is the file name).
    pub fn file(&mut self, name: &str, value: &Value) -> anyhow::Result<ChildFile> {
        let bytes = serde_json::to_vec(value)?;
        if !self.on_disk {
            match memory_file(name, &bytes) {
                Ok(fd) => return Ok(ChildFile::Memory(Arc::new(fd))),
                Err(nix::Error::ENOSYS | nix::Error::EPERM | nix::Error::EINVAL) => {
                    tracing::warn!(
                        "in-memory files are not available here: children's files go into a private temporary folder"
                    );
                    self.on_disk = true;
                }
                Err(e) => return Err(e).with_context(|| format!("making {name} in memory")),
            }
        }
        self.disk_file(name, &bytes)
    }

    fn disk_file(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<ChildFile> {
        let dir = match &mut self.dir {
            Some(dir) => dir,
            None => self.dir.insert(
                RunDir::create_in(&std::env::temp_dir())
                    .context("creating a private temporary folder")?,
            ),
        };
        let path = dir.path().join(name);
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(ChildFile::Disk(path))
    }
}

impl ChildFile {
    /// The path the child opens: `/dev/fd/N`, or the file on disk.
    pub fn path(&self) -> PathBuf {
        match self {
            ChildFile::Memory(fd) => PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd())),
            ChildFile::Disk(path) => path.clone(),
        }
    }

    /// Lets the child that `command` starts inherit this file (no other child does).
    #[allow(unsafe_code)]
    pub fn pass_to(&self, command: &mut Command) {
        use std::os::unix::process::CommandExt as _;
        let ChildFile::Memory(fd) = self else {
            return;
        };
        // Held by the command, so the number names this file whenever the command spawns.
        let fd = Arc::clone(fd);
        // SAFETY: the closure runs in the child between fork and exec, where only
        // async-signal-safe calls are allowed: fcntl is a plain system call and nothing is
        // allocated or freed.
        unsafe {
            command.pre_exec(move || {
                fcntl(fd.as_fd(), FcntlArg::F_SETFD(FdFlag::empty()))
                    .map(drop)
                    .map_err(std::io::Error::from)
            });
        }
    }
}

/// An in-memory file holding `bytes`, sealed against any change, read from its start.
fn memory_file(name: &str, bytes: &[u8]) -> nix::Result<OwnedFd> {
    let fd = memfd_create(
        format!("tapline-{name}").as_str(),
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )?;
    let fd = above_stdio(fd)?;
    let mut file = File::from(fd);
    let io = |e: std::io::Error| {
        e.raw_os_error()
            .map_or(nix::Error::EIO, nix::Error::from_raw)
    };
    file.write_all(bytes).map_err(io)?;
    file.rewind().map_err(io)?;
    fcntl(
        file.as_fd(),
        FcntlArg::F_ADD_SEALS(
            SealFlag::F_SEAL_SHRINK
                | SealFlag::F_SEAL_GROW
                | SealFlag::F_SEAL_WRITE
                | SealFlag::F_SEAL_SEAL,
        ),
    )?;
    Ok(OwnedFd::from(file))
}

/// `fd` itself, or a copy numbered 3 or above: a child's stdin, stdout and stderr are set up on
/// 0–2 before it execs and would replace a file there (tapline started with one of them closed).
fn above_stdio(fd: OwnedFd) -> nix::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    let copy = fcntl(fd.as_fd(), FcntlArg::F_DUPFD_CLOEXEC(3))?;
    #[allow(unsafe_code)]
    // SAFETY: fcntl just returned this new descriptor, owned by nothing else.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(copy) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt as _;
    use std::process::Stdio;

    fn cat(file: &ChildFile, pass: bool) -> std::process::Output {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("cat \"$1\" && cat \"$1\"")
            .arg("sh")
            .arg(file.path())
            .stderr(Stdio::piped());
        if pass {
            file.pass_to(&mut command);
        }
        command.output().expect("runs")
    }

    #[test]
    fn a_child_reads_its_file_in_memory_as_often_as_it_likes() {
        let mut handoff = Handoff::new(false);
        let file = handoff
            .file("tap.json", &json!({"token": "x"}))
            .expect("file");
        assert!(matches!(file, ChildFile::Memory(_)));
        assert!(file.path().starts_with("/dev/fd/"));
        let out = cat(&file, true);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            r#"{"token":"x"}{"token":"x"}"#,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(handoff.dir.is_none(), "no folder is made");
    }

    #[test]
    fn only_the_child_it_is_passed_to_inherits_it() {
        let mut handoff = Handoff::new(false);
        let file = handoff.file("tap.json", &json!(1)).expect("file");
        let out = cat(&file, false);
        assert!(!out.status.success(), "another child cannot open it");
        assert!(out.stdout.is_empty());
    }

    #[test]
    fn the_file_is_sealed() {
        let mut handoff = Handoff::new(false);
        let file = handoff.file("tap.json", &json!(1)).expect("file");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("echo 2 > \"$1\"")
            .arg("sh")
            .arg(file.path());
        file.pass_to(&mut command);
        assert!(!command.status().expect("runs").success());
        assert_eq!(cat(&file, true).stdout, b"11");
    }

    #[test]
    fn on_disk_the_files_are_private_and_go_with_the_run() {
        let mut handoff = Handoff::new(true);
        let file = handoff.file("tap.json", &json!({"a": 1})).expect("file");
        let ChildFile::Disk(path) = &file else {
            panic!("on disk: {file:?}")
        };
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(path), 0o600);
        let dir = path.parent().expect("folder").to_path_buf();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(cat(&file, true).stdout, br#"{"a":1}{"a":1}"#);
        drop(handoff);
        assert!(!dir.exists());
    }
}
