//! `fake-gitlab`: an offline GitLab REST v4 API for tests and comparisons between taps.
//!
//! It serves deterministic synthetic projects (same seed and sizes, same answers) under
//! `/api/v4` with GitLab's documented shapes: projects by id or URL-encoded path, group
//! projects, commits, issues, merge requests, their notes, releases; offset paging with the
//! `X-*` headers and `Link`, keyset paging on project lists; `PRIVATE-TOKEN`, Bearer and
//! `?private_token=` auth; GitLab's error bodies; `RateLimit-*` headers; deterministic faults.
//!
//! ```no_run
//! use fake_gitlab::{FakeGitlab, ProjectSize};
//! let fake = FakeGitlab::builder().project("acme/tools/app", ProjectSize::new(300, 80, 40)).start()?;
//! let api = fake.api_url(); // http://127.0.0.1:PORT/api/v4
//! # let _ = api; Ok::<(), std::io::Error>(())
//! ```
//!
//! # Layout
//! - `data`: generation, mutations and the ground truth; no HTTP.
//! - `paging`: offset and keyset pages.
//! - `request`: a request's query pairs and the error body.
//! - `routes`: the endpoints, the request layer and the `/_fake/` controls.
//! - [`faults`]: the fault spec.
//! - `world`: data plus settings and counters, shared by the server and the test.

mod data;
pub mod faults;
mod paging;
mod request;
mod routes;
mod world;

use std::net::SocketAddr;
use std::time::Duration;

use fake_serve::{Bound, Listen, Server};

pub use data::{Mutation, ProjectSize, Truth};
pub use faults::FaultSpec;
pub use world::{SharedWorld, Stats};

use world::Config;

/// Entry point: `FakeGitlab::builder()`.
#[derive(Debug)]
pub struct FakeGitlab;

impl FakeGitlab {
    /// A builder with seed 0, no projects, no token, no faults.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// Configures a fake GitLab; finish with [`Builder::start`].
#[derive(Debug, Clone, Default)]
pub struct Builder {
    seed: u64,
    projects: Vec<(String, ProjectSize)>,
    config: Config,
    also_http: bool,
}

impl Builder {
    /// Seed of all generated data.
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = seed;
        self
    }

    /// Adds project `group[/subgroup…]/name`; its groups are created on the way.
    pub fn project(mut self, path: impl Into<String>, size: ProjectSize) -> Builder {
        self.projects.push((path.into(), size));
        self
    }

    /// Requires this token (`PRIVATE-TOKEN`, `Authorization: Bearer` or `?private_token=`).
    pub fn token(mut self, token: impl Into<String>) -> Builder {
        self.config.token = Some(token.into());
        self
    }

    /// Deterministic faults (see [`faults`]).
    pub fn faults(mut self, faults: FaultSpec) -> Builder {
        self.config.faults = faults;
        self
    }

    /// Fixed delay added to every API request.
    pub fn latency(mut self, latency: Duration) -> Builder {
        self.config.latency = latency;
        self
    }

    /// Sends the `RateLimit-*` headers on every answer (by default only on 429s).
    pub fn ratelimit_headers_always(mut self, on: bool) -> Builder {
        self.config.ratelimit_always = on;
        self
    }

    /// Seconds a 429 asks to wait in `Retry-After` (default 1).
    pub fn retry_after(mut self, seconds: u64) -> Builder {
        self.config.retry_after_s = seconds;
        self
    }

    /// With TLS, also serves the same instance over plain HTTP on another port (see
    /// [`RunningFake::plain_url`]), for a client that cannot trust the throwaway certificate.
    pub fn also_http(mut self, on: bool) -> Builder {
        self.also_http = on;
        self
    }

    fn world(mut self, web: &str) -> SharedWorld {
        if self.config.retry_after_s == 0 {
            self.config.retry_after_s = 1;
        }
        SharedWorld::new(
            data::Data::generate(self.seed, &self.projects, web),
            self.config,
        )
    }

    /// Serves on 127.0.0.1 (port 0 picks one) over plain HTTP, on a runtime thread of its own,
    /// so synchronous and asynchronous tests alike can use it.
    pub fn start_on(self, port: u16) -> std::io::Result<RunningFake> {
        self.serve(&Listen {
            port,
            ..Listen::default()
        })
    }

    /// Serves HTTPS on 127.0.0.1 with a throwaway certificate written to `dir/cert.pem` (the
    /// file a client trusts, e.g. `REQUESTS_CA_BUNDLE`) and `dir/key.pem`.
    pub fn start_tls_on(self, port: u16, dir: &std::path::Path) -> std::io::Result<RunningFake> {
        let also_http = self.also_http;
        self.serve(&Listen {
            port,
            tls_dir: Some(dir.to_owned()),
            also_http,
        })
    }

    /// Serves as `listen` says (its `also_http`, not [`Builder::also_http`]): the binary's way.
    pub fn serve(self, listen: &Listen) -> std::io::Result<RunningFake> {
        let bound = Bound::bind(listen)?;
        let world = self.world(&bound.url()?);
        let server = bound.serve(|scheme| routes::router(world.clone(), scheme))?;
        Ok(RunningFake { server, world })
    }

    /// [`Builder::start_on`] port 0.
    pub fn start(self) -> std::io::Result<RunningFake> {
        self.start_on(0)
    }
}

/// A server running on its own thread; dropping it stops the server.
#[derive(Debug)]
pub struct RunningFake {
    server: Server,
    world: SharedWorld,
}

impl RunningFake {
    /// `http://127.0.0.1:PORT/api/v4` (https with TLS), the base every API path follows.
    pub fn api_url(&self) -> String {
        format!("{}/api/v4", self.server.url())
    }

    /// `http://127.0.0.1:PORT`, where `/_fake/` lives.
    pub fn root_url(&self) -> String {
        self.server.url()
    }

    /// `http://127.0.0.1:PORT` of the plain listener [`Builder::also_http`] added, if any.
    pub fn plain_url(&self) -> Option<String> {
        self.server.plain_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The server, for [`fake_serve::announce`].
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The served instance.
    pub fn world(&self) -> &SharedWorld {
        &self.world
    }

    /// The ground truth of a project (same as `GET /_fake/truth?project=…`).
    pub fn truth(&self, project: &str) -> Option<Truth> {
        self.world.truth(project)
    }

    /// Request statistics (same as `GET /_fake/stats`).
    pub fn stats(&self) -> Stats {
        self.world.stats()
    }

    /// Changes a project (same as `POST /_fake/mutate?project=…`).
    pub fn mutate(&self, project: &str, m: Mutation) -> Result<(), String> {
        self.world.mutate(project, &m)
    }
}

/// Reads `group/name:COMMITS:ISSUES:MERGE_REQUESTS` (the `--projects` flag).
pub fn parse_project_spec(s: &str) -> Result<(String, ProjectSize), String> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || format!("`{s}`: expected group/name:COMMITS:ISSUES:MERGE_REQUESTS");
    let [path, c, i, m] = parts.as_slice() else {
        return Err(bad());
    };
    if !path.contains('/') || path.starts_with('/') || path.ends_with('/') {
        return Err(bad());
    }
    let n = |v: &str| v.parse::<usize>().map_err(|_| bad());
    Ok(((*path).to_owned(), ProjectSize::new(n(c)?, n(i)?, n(m)?)))
}
