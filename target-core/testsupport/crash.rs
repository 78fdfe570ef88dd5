//! The crash test every target runs (included by each target's tests with `#[path]`): a
//! SIGKILL in the middle of a long load leaves exactly the rows that the last echoed STATE
//! covers, a database that reopens cleanly, and a resume from that STATE that completes the
//! load without duplicates. A target's test gives a [`Subject`]: how to start it, and what its
//! database holds.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::process::{Child, ChildStdin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::corpus::{schema, state};

/// A target under test, with its own database.
pub trait Subject {
    /// Starts the target on its database, stdin and stdout piped, stderr into file `log`.
    fn start(&self, log: &str) -> Child;
    /// The text of log file `log`.
    fn log(&self, log: &str) -> String;
    /// Checks the database's own consistency (after the kill).
    fn check_integrity(&self);
    /// The `sha` of every row of table `commits`, and the row count.
    fn commits(&self) -> (BTreeSet<String>, u64);
}

/// Records in the whole stream: long enough that the kill comes well before its end, short
/// enough that the resume finishes quickly in a debug build.
const TOTAL: u64 = if cfg!(debug_assertions) {
    100_000
} else {
    600_000
};

/// A STATE after every this many records.
const STATE_EVERY: u64 = 10_000;

fn sha(i: u64) -> String {
    format!("{:040x}", u128::from(i) * 0x9E37_79B9_7F4A_7C15)
}

/// Whether the stream declares `sha` as its key (rows upserted) or no key at all (rows
/// appended, so a record loaded twice shows as a second row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// `key_properties: ["sha"]`.
    Sha,
    /// `key_properties: []`.
    None,
}

fn commits_schema(keys: Keys) -> String {
    let user = json!({"type": ["null", "object"], "properties": {
        "login": {"type": "string"}, "id": {"type": "integer"}, "avatar_url": {"type": "string"},
        "type": {"type": "string"}, "site_admin": {"type": "boolean"}}});
    let person = json!({"type": "object", "properties": {
        "name": {"type": "string"}, "email": {"type": "string"},
        "date": {"type": "string", "format": "date-time"}}});
    schema(
        "commits",
        json!({
            "sha": {"type": "string"},
            "node_id": {"type": "string"},
            "commit": {"type": "object", "properties": {
                "author": person, "committer": person, "message": {"type": "string"},
                "comment_count": {"type": "integer"}}},
            "url": {"type": "string"},
            "html_url": {"type": "string"},
            "author": user,
            "committer": user,
            "parents": {"type": "array", "items": {"type": "object"}},
        }),
        if keys == Keys::Sha { &["sha"] } else { &[] },
    )
}

/// One GitHub-commit-shaped RECORD line of about 1 KB; every seventh has no `author`.
fn commit_record(i: u64) -> String {
    let sha = sha(i);
    let person = format!(
        r#"{{"name":"Person {p}","email":"p{p}@example.invalid","date":"2024-01-01T00:00:00Z"}}"#,
        p = i % 300
    );
    let user = if i.is_multiple_of(7) {
        "null".to_string()
    } else {
        format!(
            r#"{{"login":"user{u}","id":{u},"avatar_url":"https://avatars.example.invalid/u/{u}?v=4","type":"User","site_admin":false}}"#,
            u = i % 500
        )
    };
    let message = format!("Fix thing {i}. ").repeat(20);
    format!(
        r#"{{"type":"RECORD","stream":"commits","record":{{"sha":"{sha}","node_id":"C_{short}","commit":{{"author":{person},"committer":{person},"message":"{message}","comment_count":0}},"url":"https://api.example.invalid/repos/o/r/commits/{sha}","html_url":"https://example.invalid/o/r/commit/{sha}","author":{user},"committer":{user},"parents":[{{"sha":"{sha}","url":"https://api.example.invalid/x"}}]}}}}"#,
        short = &sha[..20]
    )
}

/// The STATE that follows `n` records: its value says how many records precede it.
fn position_state(n: u64) -> String {
    state(json!({"bookmarks": {"commits": {"records": n}}}))
}

fn position(value: &Value) -> u64 {
    value["bookmarks"]["commits"]["records"]
        .as_u64()
        .unwrap_or_else(|| panic!("not a position STATE: {value}"))
}

/// Feeds the SCHEMA and records `from..TOTAL` (a STATE every `STATE_EVERY` records, and a
/// last one at the end), counting records written in `sent`; stops at the first write error.
fn feed(stdin: ChildStdin, keys: Keys, from: u64, sent: &AtomicU64) {
    let mut out = BufWriter::with_capacity(64 * 1024, stdin);
    let mut write = |line: String| writeln!(out, "{line}");
    if write(commits_schema(keys)).is_err() {
        return;
    }
    for i in from..TOTAL {
        if i > from && i.is_multiple_of(STATE_EVERY) && write(position_state(i)).is_err() {
            return;
        }
        if write(commit_record(i)).is_err() {
            return;
        }
        sent.store(i + 1, Ordering::SeqCst);
    }
    let _ = write(position_state(TOTAL));
    let _ = out.flush();
}

fn wait_for(deadline: Instant, what: &str, mut done: impl FnMut() -> bool) {
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The test: load, SIGKILL after the first echoed STATE, check, resume, check. Without keys,
/// nothing can hide a record loaded twice: the row count alone must come out exact.
pub fn sigkill_mid_load_keeps_exactly_what_the_last_state_covers(
    subject: &impl Subject,
    keys: Keys,
) {
    let started = Instant::now();
    let mut child = subject.start("first.log");

    let sent = Arc::new(AtomicU64::new(0));
    let stdin = child.stdin.take().unwrap();
    let writer = {
        let sent = Arc::clone(&sent);
        std::thread::spawn(move || feed(stdin, keys, 0, &sent))
    };
    let (tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });

    // Wait for a first echoed STATE, make sure more records are on their way, then kill at
    // once. The next commit is at least a second after that echo (the target commits at a
    // STATE once the last commit is a second old, or after 100,000 rows), so the kill lands
    // while rows sit in the open transaction, never between a commit and its echo.
    let first = lines
        .recv_timeout(Duration::from_secs(30))
        .expect("a STATE within 30 s");
    let first = position(&serde_json::from_str(&first).unwrap());
    assert!(first > 0 && first.is_multiple_of(STATE_EVERY), "{first}");
    wait_for(
        Instant::now() + Duration::from_secs(20),
        "records beyond the first echoed STATE",
        || sent.load(Ordering::SeqCst) > first + 1000,
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the target finished before the kill; TOTAL is too small"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    writer.join().unwrap();
    reader.join().unwrap();
    let sent = sent.load(Ordering::SeqCst);

    // Every line of stdout was a position STATE, in order; the last one is what counts.
    let mut echoed = vec![first];
    echoed.extend(
        lines
            .iter()
            .map(|l| position(&serde_json::from_str(&l).unwrap())),
    );
    assert!(
        echoed.windows(2).all(|w| w[0] < w[1])
            && echoed.iter().all(|n| n.is_multiple_of(STATE_EVERY)),
        "{echoed:?}"
    );
    let last = *echoed.last().unwrap();

    subject.check_integrity();
    let (shas, committed) = subject.commits();
    assert!(
        0 < committed && committed < sent,
        "committed {committed}, sent {sent}"
    );
    assert_eq!(committed, last, "rows vs the last echoed STATE {echoed:?}");
    let want: BTreeSet<String> = (0..last).map(sha).collect();
    assert!(shas == want, "the rows are not records 0..{last}");

    // Resume from the last echoed STATE: the load completes, every row once.
    let mut child = subject.start("second.log");
    let stdin = child.stdin.take().unwrap();
    let resent = Arc::new(AtomicU64::new(0));
    let writer = {
        let resent = Arc::clone(&resent);
        std::thread::spawn(move || feed(stdin, keys, last, &resent))
    };
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let log = subject.log("second.log");
    assert_eq!(out.status.code(), Some(0), "{log}");
    let states: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| position(&serde_json::from_str(l).unwrap()))
        .collect();
    assert_eq!(states.last(), Some(&TOTAL), "{states:?}");
    assert!(
        log.contains(&format!(
            "\n  commits: {} inserted, 0 updated, 0 rejected",
            TOTAL - last
        )),
        "{log}"
    );
    let (shas, rows) = subject.commits();
    assert_eq!((rows, shas.len() as u64), (TOTAL, TOTAL));
    eprintln!(
        "crash test ({keys:?} keys): killed after {sent} records sent, {last} committed; total {:?}",
        started.elapsed()
    );
}
