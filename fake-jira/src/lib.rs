//! `fake-jira`: an offline Jira Cloud REST API for tests and benchmarks, built from the shapes
//! Jira Cloud documents for REST v3.
//!
//! It serves deterministic synthetic projects, users and issues (with comments, worklogs and
//! three custom fields) through `GET /rest/api/3/search/jql` (`jql`, `fields`, `maxResults`,
//! `nextPageToken`; `issues`, `nextPageToken`, `isLast`, no total), offset-paged comments,
//! worklogs, projects and users, `/field` and `/myself` (with the user's time zone, in which
//! every date is written and every JQL date is read). The removed `/rest/api/3/search` answers
//! 410 Gone. Search is eventually consistent when asked: a change reaches it after a lag. Faults
//! (5xx, 429 with `Retry-After`, churn between search pages) are deterministic
//! ([`faults`]). The v2 endpoints singer-io tap-jira calls are served too.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_jira::Error> {
//! let fake = fake_jira::FakeJira::builder().seed(7).credentials("me@example.com", "t0ken").start().await?;
//! let url = fake.api_url(); // http://127.0.0.1:PORT
//! # let _ = url; Ok(()) }
//! ```
//!
//! # Layout
//! - `data`: the site (generation, mutations, rendering, the truth); no HTTP.
//! - `jql`: the JQL subset.
//! - [`faults`]: the `--faults` spec.
//! - `world`: the site, the search index, settings and statistics, shared with the test.
//! - `routes`: the endpoints and the layer every API request crosses; `/_fake/truth`,
//!   `/_fake/stats`, `/_fake/requests` (every API request: method, path and query, status) and
//!   `POST /_fake/mutate` (a [`Mutation`] or a list; `?lag_ms=N` delays search).

mod data;
pub mod faults;
mod jql;
mod routes;
mod world;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use fake_serve::{Bound, Listen, Server};

pub use data::{Mutation, Size, Truth};
pub use faults::FaultSpec;
pub use routes::base64;
pub use world::{SharedWorld, Stats, World};

use world::Config;

/// Why the fake cannot start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The time zone is not an IANA zone.
    #[error("`{0}` is not an IANA time zone")]
    Zone(String),
    /// Binding or serving failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Entry point: `FakeJira::builder()`.
#[derive(Debug)]
pub struct FakeJira;

impl FakeJira {
    /// A builder: seed 0, the default size, America/Los_Angeles, any credentials, no faults, no
    /// index lag.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// Configures a fake Jira.
#[derive(Debug, Clone)]
pub struct Builder {
    seed: u64,
    size: Size,
    zone: String,
    credentials: Option<(String, String)>,
    faults: FaultSpec,
    index_lag: Duration,
    latency: Duration,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            seed: 0,
            size: Size::default(),
            zone: "America/Los_Angeles".into(),
            credentials: None,
            faults: FaultSpec::default(),
            index_lag: Duration::ZERO,
            latency: Duration::ZERO,
        }
    }
}

impl Builder {
    /// Seed of the generated data.
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = seed;
        self
    }

    /// How many projects, issues and users.
    pub fn size(mut self, size: Size) -> Builder {
        self.size = size;
        self
    }

    /// The user's time zone (IANA name): dates are written and JQL dates read in it.
    pub fn time_zone(mut self, zone: impl Into<String>) -> Builder {
        self.zone = zone.into();
        self
    }

    /// Requires HTTP Basic `email:api_token` on every API request; anything else is a 401.
    pub fn credentials(mut self, email: impl Into<String>, token: impl Into<String>) -> Builder {
        self.credentials = Some((email.into(), token.into()));
        self
    }

    /// Deterministic faults.
    pub fn faults(mut self, faults: FaultSpec) -> Builder {
        self.faults = faults;
        self
    }

    /// How long a change takes to reach search (eventual consistency).
    pub fn index_lag(mut self, lag: Duration) -> Builder {
        self.index_lag = lag;
        self
    }

    /// Delay added to every API request.
    pub fn latency(mut self, latency: Duration) -> Builder {
        self.latency = latency;
        self
    }

    /// The world, served at `base` (item `self` links use it).
    pub fn build(self, base: &str) -> Result<World, Error> {
        let zone =
            jiff::tz::TimeZone::get(&self.zone).map_err(|_| Error::Zone(self.zone.clone()))?;
        let site = data::Site::generate(self.seed, self.size);
        let config = Config {
            zone_name: self.zone,
            zone,
            credentials: self.credentials,
            faults: self.faults,
            index_lag: self.index_lag,
            latency: self.latency,
        };
        Ok(World::new(
            site,
            config,
            base.trim_end_matches('/').to_owned(),
        ))
    }

    /// Binds `127.0.0.1:0` and serves on a runtime thread of its own until the handle is
    /// dropped.
    pub async fn start(self) -> Result<RunningFake, Error> {
        self.serve(&Listen::default())
    }

    /// Serves as `listen` says (port, HTTPS, a plain sibling) on a runtime thread of its own
    /// until the handle is dropped; item links use the main URL.
    pub fn serve(self, listen: &Listen) -> Result<RunningFake, Error> {
        let bound = Bound::bind(listen)?;
        let world = Arc::new(self.build(&bound.url()?)?);
        let server = bound.serve(|_| app(world.clone()))?;
        Ok(RunningFake { server, world })
    }
}

/// The router of a world: every route behind the Jira layer.
pub fn app(world: SharedWorld) -> Router {
    routes::router()
        .layer(axum::middleware::from_fn_with_state(
            world.clone(),
            routes::gate,
        ))
        .with_state(world)
}

/// A fake Jira on `127.0.0.1`; it stops when dropped.
#[derive(Debug)]
pub struct RunningFake {
    server: Server,
    world: SharedWorld,
}

impl RunningFake {
    /// Starts `builder` on a runtime thread of its own, for synchronous tests.
    pub fn start_blocking(builder: Builder) -> Result<RunningFake, Error> {
        builder.serve(&Listen::default())
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn api_url(&self) -> String {
        self.server.url()
    }

    /// `http://127.0.0.1:PORT` of the plain sibling, if asked for.
    pub fn plain_url(&self) -> Option<String> {
        self.server.plain_url()
    }

    /// The server, for [`fake_serve::announce`].
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The served world.
    pub fn world(&self) -> &SharedWorld {
        &self.world
    }

    /// The ground truth (same as `GET /_fake/truth`).
    pub fn truth(&self) -> Truth {
        self.world.truth()
    }

    /// Request statistics (same as `GET /_fake/stats`).
    pub fn stats(&self) -> Stats {
        self.world.stats()
    }

    /// Every API request answered so far (same as `GET /_fake/requests`).
    pub fn requests(&self) -> Vec<String> {
        self.world.requests()
    }

    /// Applies `m` (same as `POST /_fake/mutate`); search sees it after the index lag.
    pub fn mutate(&self, m: &Mutation) -> Result<(), String> {
        self.world.mutate(m)
    }
}
