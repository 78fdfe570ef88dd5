//! Helpers: a world per test, requests through the router without a socket, Link parsing, and
//! a tiny raw HTTP/1.1 client for the socket tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use fake_github::{Builder, FakeGithub, RepoSize, SharedWorld};
use serde_json::Value;
use tower::ServiceExt;

/// The standard test world: a busy repo, a small one, an empty one, in organization `octo`.
pub fn builder() -> Builder {
    FakeGithub::builder()
        .seed(7)
        .org("octo")
        .repo("octo/app", RepoSize::new(260, 90))
        .repo("octo/small", RepoSize::new(12, 5))
        .repo("octo/empty", RepoSize::new(0, 0))
        .repo(
            "mona/solo",
            RepoSize {
                commits: 40,
                issues: 30,
                stargazers: Some(45),
                ..RepoSize::default()
            },
        )
}

pub fn world_of(b: Builder) -> (SharedWorld, Router) {
    let world = Arc::new(b.build().unwrap());
    let app = fake_github::app(world.clone());
    (world, app)
}

pub fn world() -> (SharedWorld, Router) {
    world_of(builder())
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn items(&self) -> Vec<Value> {
        self.json()
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {}", self.json()))
            .clone()
    }

    /// The URL of `rel` in the Link header.
    pub fn link(&self, rel: &str) -> Option<String> {
        links(self.header("link")?)
            .into_iter()
            .find(|(r, _)| r == rel)
            .map(|(_, u)| u)
    }
}

/// Parses `<url>; rel="x", …`.
pub fn links(header: &str) -> Vec<(String, String)> {
    header
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            let url = url.strip_prefix('<').unwrap().strip_suffix('>').unwrap();
            let rel = rel
                .strip_prefix("rel=\"")
                .unwrap()
                .strip_suffix('"')
                .unwrap();
            (rel.to_owned(), url.to_owned())
        })
        .collect()
}

pub async fn get(app: &Router, uri: &str) -> Resp {
    request(app, uri, &[]).await
}

/// GET with a User-Agent plus `headers` (a header with an empty value is omitted).
pub async fn request(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Resp {
    let uri = uri.strip_prefix("http://127.0.0.1").unwrap_or(uri);
    let mut req = Request::get(uri);
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
    {
        req = req.header("user-agent", "tapline-tests");
    }
    for (k, v) in headers {
        if !v.is_empty() {
            req = req.header(*k, *v);
        }
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

pub async fn send(app: &Router, req: Request<Body>) -> Resp {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

/// Follows `rel="next"` from `uri` to the end; returns every item and the number of pages.
pub async fn walk(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut next = Some(uri.to_owned());
    let mut pages = 0;
    while let Some(u) = next {
        let r = request(app, &u, headers).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{u}: {}",
            String::from_utf8_lossy(&r.body)
        );
        items.extend(r.items());
        next = r.link("next");
        pages += 1;
        assert!(pages < 10_000, "pagination loop");
    }
    (items, pages)
}

/// A raw HTTP/1.1 exchange: status, lower-cased headers, body bytes, and whether the body was
/// complete (as long as its Content-Length).
pub fn raw_get(
    addr: SocketAddr,
    path: &str,
    extra: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: raw\r\n{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65_536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let body = buf[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse::<usize>().unwrap());
    let complete = len.is_none_or(|l| l == body.len());
    (status, headers, body, complete)
}
