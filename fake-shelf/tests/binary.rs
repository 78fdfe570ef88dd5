//! The `fake-shelf` binary: one `listening` line, then the catalog behind its token.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// The status line and body of `GET path` with `token`, over a plain socket.
fn get(addr: &str, path: &str, token: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn prints_its_address_and_serves_the_catalog_behind_its_token() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-shelf"))
        .args(["--port", "0", "--token", "t-1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    let (status, body) = get(&addr, "/api/v2/books?per_page=2", "t-1");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("\"count\":12"), "{body}");
    let (status, _) = get(&addr, "/api/v2/books", "wrong");
    assert!(status.contains(" 401 "), "{status}");
    child.kill().unwrap();
    child.wait().unwrap();
}
