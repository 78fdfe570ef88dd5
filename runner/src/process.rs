//! Starting children so that they die with tapline: each in its own process group (so tapline
//! decides how a Ctrl-C reaches them) and with a parent-death signal (so a SIGKILLed tapline
//! leaves no orphan writing to the database).

use std::io;
use std::process::{Child, Command};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Spawns `command` in a new process group, killed by the kernel if tapline dies.
pub fn spawn(command: &mut Command) -> io::Result<Child> {
    use std::os::unix::process::CommandExt as _;
    let parent = std::process::id();
    command.process_group(0);
    set_parent_death_signal(command, parent);
    command.spawn()
}

#[allow(unsafe_code)]
fn set_parent_death_signal(command: &mut Command, parent: u32) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe
    // calls are allowed; prctl and getppid are plain system calls, and nothing is allocated.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
            // tapline may have died before prctl took effect: then nobody will signal us.
            if nix::unistd::getppid().as_raw() != parent as i32 {
                return Err(io::Error::other(
                    "tapline exited while starting this process",
                ));
            }
            Ok(())
        });
    }
}

/// Sends `signal` to the process group of `child` (the child and anything it started).
pub fn signal_group(child: &Child, signal: Signal) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_run_in_their_own_group_and_can_be_signalled() {
        let mut child = spawn(Command::new("sleep").arg("30")).expect("spawns");
        let pgid = nix::unistd::getpgid(Some(Pid::from_raw(child.id() as i32))).expect("pgid");
        assert_eq!(pgid.as_raw(), child.id() as i32);
        signal_group(&child, Signal::SIGTERM);
        let status = child.wait().expect("waits");
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(status.signal(), Some(Signal::SIGTERM as i32));
    }
}
