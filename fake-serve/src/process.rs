//! A fake's binary started by a test: its `listening URL` line read, the process killed when
//! the handle is dropped.

use std::io::{self, BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A fake binary running on a free port (`--port 0` is passed before `args`).
#[derive(Debug)]
pub struct Process {
    child: Child,
    url: String,
}

impl Process {
    /// Starts `program --port 0 ARGS…` and waits for its `listening URL` line.
    pub fn start(program: &Path, args: &[&str]) -> io::Result<Process> {
        let mut child = Command::new(program)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        match line.trim().strip_prefix("listening ") {
            Some(url) => Ok(Process {
                url: url.to_owned(),
                child,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other(format!(
                    "{} printed {line:?}, not `listening URL`",
                    program.display()
                )))
            }
        }
    }

    /// The URL it printed, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
