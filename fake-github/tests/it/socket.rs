//! The server on a real socket: the async and blocking handles, and the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use fake_github::{FakeGithub, Mutation, RepoSize, RunningFake};

use crate::support::raw_get;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_serves_on_loopback_with_item_urls_on_the_bound_address() {
    let fake = FakeGithub::builder()
        .seed(3)
        .repo("octo/app", RepoSize::new(20, 5))
        .start()
        .await
        .unwrap();
    let url = fake.api_url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    let addr = fake.addr();
    let (status, _, body) = tokio::task::spawn_blocking(move || {
        let (s, h, b, _) = raw_get(addr, "/repos/octo/app/commits?per_page=1", "");
        (s, h, b)
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    let items: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        items[0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{url}/repos/octo/app/commits/"))
    );
    fake.mutate(
        "octo/app",
        Mutation {
            new_commits: 1,
            ..Mutation::default()
        },
    )
    .unwrap();
    assert_eq!(fake.truth("octo/app").unwrap().counts.commits, 21);
    assert_eq!(fake.stats().total, 1);
}

#[test]
fn start_blocking_works_from_synchronous_code_and_stops_on_drop() {
    let fake =
        RunningFake::start_blocking(FakeGithub::builder().repo("octo/app", RepoSize::new(5, 2)))
            .unwrap();
    let addr = fake.addr();
    let (status, headers, _, _) = raw_get(addr, "/repos/octo/app", "");
    assert_eq!(status, 200);
    assert!(headers.iter().any(|(k, _)| k == "x-ratelimit-limit"));
    drop(fake);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is closed after drop"
    );
}

#[test]
fn binary_prints_one_listening_line_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .args([
            "--port",
            "0",
            "--seed",
            "7",
            "--repos",
            "octo/app:30:10,octo/empty:0:0",
            "--org",
            "octo",
        ])
        .args([
            "--token",
            "t0k",
            "--faults",
            "http500:every=3",
            "--latency-ms",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening ").unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let (s1, _, _, _) = raw_get(addr, "/repos/octo/app", "Authorization: Bearer t0k\r\n");
    let (s2, _, _, _) = raw_get(addr, "/repos/octo/app", "");
    let (s3, _, _, _) = raw_get(
        addr,
        "/repos/octo/empty/commits",
        "Authorization: token t0k\r\n",
    );
    let (s4, _, _, _) = raw_get(addr, "/orgs/octo/repos", "Authorization: token t0k\r\n");
    // 401s are refused before requests are numbered, so the third numbered request is s4.
    assert_eq!((s1, s2, s3, s4), (200, 401, 409, 500));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "exactly one line on stdout");
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .args(["--repos", "noslash:1:1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid repo spec"));
    let out = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .args(["--faults", "http200:every=1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
