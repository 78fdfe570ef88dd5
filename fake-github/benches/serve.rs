//! Figures for fake-github's performance goals: CPU per 100-item page of a 5,000-commit repo
//! (through the whole router: auth, rate limit, ETag), and build time and memory of a
//! 200,000-commit repo. Run with `cargo bench -p fake-github --bench serve`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use fake_github::{FakeGithub, RepoSize};
use tower::ServiceExt;

/// Process CPU time (user + system) in seconds, from /proc (Linux).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(") ")
        .next()
        .unwrap_or_default()
        .split(' ')
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().map(|v| v.parse::<f64>().unwrap_or(0.0)).sum()
    });
    ticks / 100.0
}

/// Resident memory in MiB, from /proc (Linux).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn pages(app: &axum::Router, uri_of: impl Fn(usize) -> String, n: usize) -> usize {
    let mut bytes = 0;
    for k in 0..n {
        let req = Request::get(uri_of(k))
            .header("user-agent", "bench")
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        bytes += axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .len();
    }
    bytes
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let t = Instant::now();
    let world = FakeGithub::builder()
        .seed(7)
        .repo("octo/app", RepoSize::new(5_000, 5_000))
        .build()
        .unwrap();
    println!(
        "build 5,000 commits + 5,000 issues: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let app = fake_github::app(Arc::new(world));
    let rounds = 20;
    let n = 50 * rounds;
    let (c0, t0) = (cpu_secs(), Instant::now());
    let bytes = pages(
        &app,
        |k| format!("/repos/octo/app/commits?per_page=100&page={}", k % 50 + 1),
        n,
    )
    .await;
    let (cpu, wall) = (cpu_secs() - c0, t0.elapsed().as_secs_f64());
    println!(
        "commits page (100 items, {} KB): {:.0} us wall, {:.0} us CPU per page ({n} pages)",
        bytes / n / 1024,
        wall / n as f64 * 1e6,
        cpu / n as f64 * 1e6
    );
    let t0 = Instant::now();
    let n = 200;
    let bytes = pages(
        &app,
        |k| {
            format!(
                "/repos/octo/app/issues?state=all&per_page=100&page={}",
                k % 50 + 1
            )
        },
        n,
    )
    .await;
    println!(
        "issues page (100 items of 5,000, filter + sort, {} KB): {:.0} us wall per page",
        bytes / n / 1024,
        t0.elapsed().as_secs_f64() / n as f64 * 1e6
    );

    let rss0 = rss_mib();
    let (c0, t0) = (cpu_secs(), Instant::now());
    let big = FakeGithub::builder()
        .seed(7)
        .repo("octo/big", RepoSize::new(200_000, 0))
        .build()
        .unwrap();
    let (cpu, wall) = (cpu_secs() - c0, t0.elapsed().as_secs_f64());
    println!(
        "build 200,000 commits: {wall:.2} s wall, {cpu:.2} s CPU; items {:.0} MiB, RSS +{:.0} MiB",
        big.heap_size() as f64 / (1024.0 * 1024.0),
        rss_mib() - rss0
    );
    let app = fake_github::app(Arc::new(big));
    let t0 = Instant::now();
    let n = 200;
    pages(
        &app,
        |k| format!("/repos/octo/big/commits?per_page=100&page={}", k * 97 + 1),
        n,
    )
    .await;
    println!(
        "200,000-commit repo, 100-item page: {:.0} us wall per page",
        t0.elapsed().as_secs_f64() / n as f64 * 1e6
    );
}
