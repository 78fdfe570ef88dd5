#![recursion_limit = "256"]
//! `fake-github`: a faithful offline GitHub REST API for tests, the demo and benchmarks.
//!
//! It serves deterministic synthetic repositories (same seed and sizes, byte-identical responses)
//! with GitHub's real REST semantics: pagination and `Link` headers (cursor pages on `/issues`),
//! rate-limit headers, ETags and `304`s, GitHub's error bodies, and deterministic faults.
//!
//! ```no_run
//! # async fn demo() -> fake_github::Result<()> {
//! use fake_github::{FakeGithub, RepoSize};
//! let fake = FakeGithub::builder().seed(7).repo("octo/app", RepoSize::new(500, 120)).start().await?;
//! let url = fake.api_url(); // http://127.0.0.1:PORT
//! # let _ = url; Ok(()) }
//! ```
//!
//! # Layout
//! - `data`: generation of accounts and repositories, mutations and the ground truth; no HTTP.
//! - `routes`: one module per endpoint family, plus pagination and error bodies.
//! - `http`: the layer every request crosses (auth, `User-Agent`, faults, rate limit, ETags).
//! - [`faults`]: the `--faults` spec.
//! - `world`: data plus settings and runtime state, shared by the server and the test.
//! - this file: the builder, [`app`], [`serve`] and the [`RunningFake`] handle.

mod data;
mod error;
pub mod faults;
mod http;
mod routes;
mod util;
mod world;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use data::{
    Mutation, RepoSize, Truth, TruthComment, TruthCommit, TruthContributor, TruthCounts,
    TruthIssue, TruthRelease, TruthReview, TruthStargazer,
};
pub use error::{Error, ErrorKind, Result};
pub use faults::FaultSpec;
pub use world::{IssueCursor, SharedWorld, Stats, World};

use data::generate::RepoSpec;
use world::Config;

/// Entry point: `FakeGithub::builder()`.
#[derive(Debug)]
pub struct FakeGithub;

impl FakeGithub {
    /// A builder with seed 0, no repositories, no latency, no token and no faults.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// Configures a fake GitHub; finish with [`Builder::start`], [`Builder::build`] or
/// [`RunningFake::start_blocking`].
#[derive(Debug, Clone, Default)]
pub struct Builder {
    seed: u64,
    repos: Vec<(String, RepoSize)>,
    orgs: Vec<String>,
    config: Config,
    base_url: Option<String>,
}

impl Builder {
    /// Seed of all generated data.
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = seed;
        self
    }

    /// Adds repository `owner/name` with the given sizes.
    pub fn repo(mut self, full_name: impl Into<String>, size: RepoSize) -> Builder {
        self.repos.push((full_name.into(), size));
        self
    }

    /// Declares an organization: its repositories get an `Organization` owner and are listed by
    /// `/orgs/{org}/repos`.
    pub fn org(mut self, login: impl Into<String>) -> Builder {
        self.orgs.push(login.into());
        self
    }

    /// Fixed delay added to every API request.
    pub fn latency(mut self, latency: Duration) -> Builder {
        self.config.latency = latency;
        self
    }

    /// Requires `Authorization: Bearer <token>` (or `token <token>`) on every API request;
    /// anything else gets `401 Bad credentials`.
    pub fn token(mut self, token: impl Into<String>) -> Builder {
        self.config.token = Some(token.into());
        self
    }

    /// Deterministic faults to inject (see [`faults`]).
    pub fn faults(mut self, faults: FaultSpec) -> Builder {
        self.config.faults = faults;
        self
    }

    /// What the `after=` cursor of `/issues` pages holds; [`IssueCursor::Keyset`] by default.
    pub fn issue_cursor(mut self, cursor: IssueCursor) -> Builder {
        self.config.issue_cursor = cursor;
        self
    }

    /// Base URL written inside item bodies (`url`, `comments_url`, …) by [`Builder::build`];
    /// default `http://127.0.0.1`. [`Builder::start`] uses the bound address instead.
    pub fn base_url(mut self, base: impl Into<String>) -> Builder {
        self.base_url = Some(base.into().trim_end_matches('/').to_owned());
        self
    }

    /// Generates the world without serving it; pair it with [`app`] or [`serve`].
    pub fn build(self) -> Result<World> {
        let base = self
            .base_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1".to_owned());
        self.build_with_base(&base)
    }

    fn build_with_base(self, base: &str) -> Result<World> {
        let mut specs: Vec<RepoSpec> = Vec::with_capacity(self.repos.len());
        for (full, size) in &self.repos {
            let valid = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            };
            let (owner, name) = full
                .split_once('/')
                .filter(|(o, n)| valid(o) && valid(n))
                .ok_or_else(|| ErrorKind::InvalidRepoName(full.clone()))?;
            if specs
                .iter()
                .any(|s| format!("{}/{}", s.owner, s.name).eq_ignore_ascii_case(full))
            {
                return Err(ErrorKind::DuplicateRepo(full.clone()).into());
            }
            specs.push(RepoSpec {
                owner: owner.to_owned(),
                name: name.to_owned(),
                size: *size,
            });
        }
        let data = data::generate::generate(self.seed, base, &specs, &self.orgs);
        Ok(World::new(data, self.config))
    }

    /// Binds `127.0.0.1:0`, generates the world with item URLs on that address and serves it on
    /// the current tokio runtime until the handle is dropped.
    pub async fn start(self) -> Result<RunningFake> {
        self.start_on(0).await
    }

    /// Like [`Builder::start`] on a chosen port (0 picks a free one).
    pub async fn start_on(self, port: u16) -> Result<RunningFake> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let world = Arc::new(self.build_with_base(&format!("http://{addr}"))?);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, world.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(RunningFake {
            addr,
            world,
            stop: Some(stop),
            thread: None,
        })
    }
}

/// The router of a world: every GitHub route and `/_fake/*`, behind the GitHub layer. Tests can
/// call it without a socket (`tower::ServiceExt::oneshot`).
pub fn app(world: SharedWorld) -> Router {
    routes::router()
        .layer(axum::middleware::from_fn_with_state(
            world.clone(),
            http::gate,
        ))
        .with_state(world)
}

/// Serves `world` on an already bound listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    world: SharedWorld,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, app(world))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// A fake GitHub serving on `127.0.0.1`; it stops when dropped.
#[derive(Debug)]
pub struct RunningFake {
    addr: SocketAddr,
    world: SharedWorld,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningFake {
    /// Starts `builder` on a runtime thread of its own, for synchronous tests (`assert_cmd`).
    pub fn start_blocking(builder: Builder) -> Result<RunningFake> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let world = Arc::new(builder.build_with_base(&format!("http://{addr}"))?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-github")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(async { TcpListener::from_std(std_listener) })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let served = world.clone();
        let thread = std::thread::Builder::new()
            .name("fake-github".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let (halt, halted) = oneshot::channel::<()>();
                    let mut server = tokio::spawn(serve(listener, served, async move {
                        let _ = halted.await;
                    }));
                    tokio::select! {
                        _ = &mut server => return,
                        _ = stopped => {}
                    }
                    let _ = halt.send(());
                    // Give in-flight requests a moment, not forever.
                    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
                });
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(RunningFake {
            addr,
            world,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The served world.
    pub fn world(&self) -> &SharedWorld {
        &self.world
    }

    /// The ground truth of `owner/name` (same as `GET /_fake/truth`).
    pub fn truth(&self, repo: &str) -> Option<Truth> {
        self.world.truth(repo)
    }

    /// Request statistics (same as `GET /_fake/stats`).
    pub fn stats(&self) -> Stats {
        self.world.stats()
    }

    /// Adds activity to `owner/name` (same as `POST /_fake/mutate`).
    pub fn mutate(&self, repo: &str, m: Mutation) -> Result<()> {
        self.world.mutate(repo, m)
    }
}

impl Drop for RunningFake {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Parses a `--repos` entry `owner/name:COMMITS:ISSUES` (sizes otherwise as [`RepoSize::new`]).
pub fn parse_repo_spec(s: &str) -> Result<(String, RepoSize)> {
    let bad = || Error::from(ErrorKind::InvalidRepoSpec(s.to_owned()));
    let mut parts = s.trim().split(':');
    let name = parts.next().filter(|n| n.contains('/')).ok_or_else(bad)?;
    let commits = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let issues = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((name.to_owned(), RepoSize::new(commits, issues)))
}
