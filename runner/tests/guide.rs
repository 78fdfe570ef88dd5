//! Runs the connector guide as a reader would: every ```console command (`$ ` lines) and every
//! file block (```LANG file=PATH) of the guide, in order, in a temporary folder, with the fake
//! API's real port in place of the guide's 8787. Each command must succeed and print what the
//! guide shows under it (durations and times of day aside; a `...` line stands for any lines).
//!
//! Needs the binaries beside `tapline`: `cargo build -p tap-rest -p target-sqlite -p fake-shelf`
//! (a workspace build or test builds them). `GUIDE_SHOW=1` prints what each command printed (and compares nothing), to update the guide.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The file holding the guide, relative to the workspace root.
const GUIDE: &str = "README.md";

/// The guide's heading in that file; the guide ends at the next heading of the same level.
const GUIDE_HEADING: &str = "## A connector in 15 minutes";

/// The port the guide writes.
const GUIDE_ADDR: &str = "127.0.0.1:8787";

/// One step of the guide.
#[derive(Debug)]
enum Step {
    /// Write `text` to `path`.
    File { path: String, text: String },
    /// Run `line`; it prints `expected` on stdout.
    Command { line: String, expected: Vec<String> },
}

/// The part of `markdown` under `heading`, up to the next heading of the same level (lines
/// inside fenced blocks are not headings).
fn section<'a>(markdown: &'a str, heading: &str) -> &'a str {
    let level = heading.split(' ').next().unwrap_or_default();
    let mut start = None;
    let mut fenced = false;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        let text = line.trim_end();
        if text.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            match start {
                None if text == heading => start = Some(offset),
                Some(from) if text.split(' ').next() == Some(level) => {
                    return &markdown[from..offset];
                }
                _ => {}
            }
        }
        offset += line.len();
    }
    start.map_or("", |from| &markdown[from..])
}

/// The steps of a Markdown guide, in order.
fn steps(markdown: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or_default();
        if let Some(path) = words.find_map(|w| w.strip_prefix("file=")) {
            let mut text = body.join("\n");
            text.push('\n');
            out.push(Step::File {
                path: path.to_owned(),
                text,
            });
        } else if lang == "console" {
            for l in body {
                match l.strip_prefix("$ ") {
                    Some(cmd) => out.push(Step::Command {
                        line: cmd.to_owned(),
                        expected: Vec::new(),
                    }),
                    None => {
                        if let Some(Step::Command { expected, .. }) = out.last_mut() {
                            expected.push(l.to_owned());
                        }
                    }
                }
            }
        }
    }
    out
}

/// `line` with what changes from run to run replaced: durations (`12 ms`, `0.19 s`) and
/// timestamps of any year but 2024 (the fake's fixed data is from 2024; edits are dated now).
fn normalize(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out: Vec<String> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let unit = words.get(i + 1).map(|u| u.trim_end_matches([',', ')']));
        let number = !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.');
        if number && matches!(unit, Some("ms" | "s")) {
            out.push("N".into());
        } else {
            out.push((*w).to_owned());
        }
    }
    let joined = out.join(" ");
    let mut result = String::new();
    let mut rest = joined.as_str();
    while let Some(at) = rest.find("20") {
        let candidate = &rest[at..];
        let stamp = candidate.len() >= 20
            && candidate.is_char_boundary(20)
            && is_timestamp(&candidate[..20]);
        if stamp && !candidate.starts_with("2024-") {
            result.push_str(&rest[..at]);
            result.push_str("TIMESTAMP");
            rest = &candidate[20..];
        } else {
            result.push_str(&rest[..at + 2]);
            rest = &candidate[2..];
        }
    }
    result.push_str(rest);
    result
}

/// `2026-12-01T18:45:12Z`.
fn is_timestamp(s: &str) -> bool {
    s.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        19 => b == b'Z',
        _ => b.is_ascii_digit(),
    })
}

/// Whether `actual` lines are what the guide shows: equal once normalized, a `...` line
/// standing for any number of lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual.split_first().is_some_and(|(a, more)| {
            normalize(first.trim_end()) == normalize(a.trim_end()) && matches(rest, more)
        }),
    }
}

/// A background program, stopped when the test ends.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin_dir() -> PathBuf {
    let tapline = PathBuf::from(env!("CARGO_BIN_EXE_tapline"));
    let dir = tapline.parent().expect("tapline has a folder").to_owned();
    for name in ["tap-rest", "target-sqlite", "fake-shelf"] {
        assert!(
            dir.join(name).is_file(),
            "{name} is missing beside tapline: run `cargo build -p tap-rest -p target-sqlite -p fake-shelf` first"
        );
    }
    for tool in ["sh", "curl", "sqlite3"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join(tool).is_file());
        assert!(
            found,
            "the guide needs `{tool}` on PATH (.ci/run installs it)"
        );
    }
    dir
}

fn shell(line: &str, dir: &Path, path: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", dir)
        .env_remove("SHELF_TOKEN")
        .env_remove("RUST_LOG");
    c
}

#[test]
fn every_command_of_the_connector_guide_runs_and_prints_what_the_guide_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let markdown = std::fs::read_to_string(root.join(GUIDE)).expect("the guide is readable");
    let steps = steps(section(&markdown, GUIDE_HEADING));
    assert!(
        steps.iter().any(|s| matches!(s, Step::File { .. }))
            && steps.iter().any(|s| matches!(s, Step::Command { .. })),
        "{GUIDE}: no commands or files found under {GUIDE_HEADING}"
    );
    let show = std::env::var_os("GUIDE_SHOW").is_some();
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = work.path();
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut addr: Option<String> = None;
    let mut background = Vec::new();
    let subst = |text: &str, addr: &Option<String>| match addr {
        Some(a) => text.replace(GUIDE_ADDR, a),
        None => text.to_owned(),
    };
    for step in &steps {
        match step {
            Step::File { path: file, text } => {
                let target = dir.join(file);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).expect("a folder for the file");
                }
                std::fs::write(&target, subst(text, &addr)).expect("the file is written");
            }
            Step::Command { line, expected } => {
                if let Some(cmd) = line.strip_suffix('&') {
                    // A server: started on a free port; its first line says where.
                    let cmd = cmd.trim().replace("--port 8787", "--port 0");
                    let mut child = shell(&format!("exec {cmd}"), dir, &path)
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap_or_else(|e| panic!("`{line}`: {e}"));
                    let stdout = child.stdout.take().expect("piped stdout");
                    background.push(Background(child));
                    let mut first = String::new();
                    BufReader::new(stdout)
                        .read_line(&mut first)
                        .expect("the server's first line");
                    let url = first
                        .trim()
                        .strip_prefix("listening http://")
                        .unwrap_or_else(|| {
                            panic!("`{line}` printed {first:?}, not `listening http://…`")
                        });
                    addr = Some(url.to_owned());
                    let expected: Vec<String> = expected.iter().map(|e| subst(e, &addr)).collect();
                    assert!(
                        matches(&expected, &[first.trim_end()]),
                        "`{line}` printed {first:?}; the guide shows {expected:?}"
                    );
                    continue;
                }
                let out = shell(&subst(line, &addr), dir, &path)
                    .output()
                    .unwrap_or_else(|e| panic!("`{line}`: {e}"));
                let stdout = String::from_utf8_lossy(&out.stdout);
                let shown = match &addr {
                    Some(a) => stdout.replace(a.as_str(), GUIDE_ADDR),
                    None => stdout.to_string(),
                };
                if show {
                    eprintln!("$ {line}\n{shown}");
                }
                assert!(
                    out.status.success(),
                    "`{line}` failed ({}):\n{}\n{}",
                    out.status,
                    stdout,
                    String::from_utf8_lossy(&out.stderr)
                );
                let actual: Vec<&str> = shown.lines().collect();
                assert!(
                    show || matches(expected, &actual),
                    "`{line}` printed:\n{shown}\nbut the guide shows:\n{}",
                    expected.join("\n")
                );
            }
        }
    }
}

#[test]
fn durations_and_todays_timestamps_are_normalized_but_not_counts() {
    assert_eq!(
        normalize("answer:   200 in 3 ms, success in 0.19 s"),
        normalize("answer:   200 in 12 ms, success in 1.02 s")
    );
    assert_eq!(
        normalize("4|Hyperion|read|2026-12-01T18:45:12Z"),
        "4|Hyperion|read|TIMESTAMP"
    );
    assert_ne!(normalize("books  12"), normalize("books  13"));
    assert_ne!(
        normalize("\"updated_at\": \"2024-02-01T12:30:00Z\""),
        normalize("\"updated_at\": \"2024-02-02T12:30:00Z\"")
    );
    let expected = vec!["a".to_owned(), "...".to_owned(), "z".to_owned()];
    assert!(matches(&expected, &["a", "b", "c", "z"]));
    assert!(!matches(&expected, &["a", "b"]));
}
