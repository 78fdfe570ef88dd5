//! A throwaway PostgreSQL for tests and benchmarks: one cluster per process, a fresh database
//! per test. No mocks.
//!
//! `initdb` and `pg_ctl` (Debian's `postgresql` package, `/usr/lib/postgresql/<version>/bin`, or
//! `PG_BIN`) make a cluster in a temporary folder that listens only on a Unix socket in that
//! folder (no TCP port, so test binaries run side by side), with `fsync` on. PostgreSQL refuses
//! to run as root, so as root the folder belongs to user `postgres` (else `nobody`) and the
//! programs run as that user through `setpriv`. A watchdog process stops the server
//! (`SIGQUIT`, immediate shutdown) and removes the folder once this process has exited.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// A running cluster.
pub struct Cluster {
    /// The temporary folder: data in `data/`, the socket in the folder itself.
    pub dir: PathBuf,
    next: AtomicU64,
    create: Mutex<()>,
}

/// A fresh database of the process's cluster.
#[derive(Debug, Clone)]
pub struct Database {
    /// Folder of the server's Unix socket.
    pub host: PathBuf,
    /// Database name.
    pub name: String,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The process's cluster, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(start)
}

/// A new, empty database.
pub fn database() -> Database {
    cluster().database()
}

impl Cluster {
    /// Creates a new database with a name unique in this cluster.
    pub fn database(&self) -> Database {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{n}");
        // CREATE DATABASE copies template1: one at a time.
        let _guard = self.create.lock().unwrap_or_else(|e| e.into_inner());
        let mut admin = self.connect("postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        Database {
            host: self.dir.clone(),
            name,
        }
    }

    /// A client of database `name`.
    pub fn connect(&self, name: &str) -> postgres::Client {
        postgres::Config::new()
            .host_path(&self.dir)
            .user("postgres")
            .dbname(name)
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {name} in {}: {e}", self.dir.display()))
    }
}

impl Database {
    /// A client of this database.
    pub fn client(&self) -> postgres::Client {
        cluster().connect(&self.name)
    }

    /// Discrete connection settings for a target config.
    pub fn settings(&self) -> serde_json::Value {
        serde_json::json!({"host": self.host, "user": "postgres", "database": self.name})
    }

    /// Every row of `sql` as JSON objects (`to_jsonb` of each row).
    pub fn rows(&self, sql: &str) -> serde_json::Value {
        let text: String = self
            .client()
            .query_one(
                &format!(
                    "SELECT coalesce(jsonb_agg(to_jsonb(q)), '[]'::jsonb)::text FROM ({sql}) q"
                ),
                &[],
            )
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0);
        serde_json::from_str(&text).unwrap()
    }
}

/// The folder holding `initdb` and `pg_ctl`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("PostgreSQL not found: apt-get install -y postgresql (or set PG_BIN)")
    })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The unprivileged user that runs the server when we are root: `postgres`, else `nobody`.
fn server_user() -> (u32, u32) {
    for user in ["postgres", "nobody"] {
        let id = |flag: &str| {
            Command::new("id")
                .args([flag, user])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        };
        if let (Some(uid), Some(gid)) = (id("-u"), id("-g")) {
            return (uid, gid);
        }
    }
    panic!("no unprivileged user (postgres or nobody) to run PostgreSQL as")
}

/// A command run as the server's user when we are root.
fn as_server(program: &Path, user: Option<(u32, u32)>) -> Command {
    match user {
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups")
                .arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn run(mut cmd: Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start() -> Cluster {
    let bin = bin_dir();
    let dir = tempfile::Builder::new()
        .prefix("tapline-pg-")
        .tempdir()
        .expect("temporary folder")
        .keep();
    let user = running_as_root().then(server_user);
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown");
    }
    let data = dir.join("data");
    let mut initdb = as_server(&bin.join("initdb"), user);
    initdb.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ]);
    run(initdb, "initdb");
    let mut pg_ctl = as_server(&bin.join("pg_ctl"), user);
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .arg("-w")
        .arg("-o")
        .arg(format!(
            "-k {} -c listen_addresses='' -c fsync=on -c max_connections=200",
            dir.display()
        ))
        .arg("start")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    run(pg_ctl, "pg_ctl start");
    // The watchdog outlives this process by at most a second, then stops the server; it is
    // meant to be left running, not waited for.
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         kill -QUIT $(head -n 1 '{data}/postmaster.pid') 2>/dev/null; sleep 2; rm -rf '{dir}'",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display()
    );
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchdog");
    Cluster {
        dir,
        next: AtomicU64::new(0),
        create: Mutex::new(()),
    }
}
