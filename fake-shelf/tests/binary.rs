//! The `fake-shelf` binary: one `listening` line, then the catalog behind its token.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;

use fake_serve::Process;

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
    let fake = Process::start(
        Path::new(env!("CARGO_BIN_EXE_fake-shelf")),
        &["--token", "t-1"],
    )
    .unwrap();
    let addr = fake
        .url()
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{}", fake.url()))
        .to_owned();
    let (status, body) = get(&addr, "/api/v2/books?per_page=2", "t-1");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("\"count\":12"), "{body}");
    let (status, _) = get(&addr, "/api/v2/books", "wrong");
    assert!(status.contains(" 401 "), "{status}");
}
