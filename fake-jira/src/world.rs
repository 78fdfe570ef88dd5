//! The served world: the site, the search index (eventually consistent: a change reaches search
//! after the index lag), the settings and the request statistics.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::data::{Issue, Mutation, Render, Site, Truth};
use crate::faults::FaultSpec;

/// Settings of a served site.
#[derive(Debug, Clone)]
pub struct Config {
    /// The user's IANA zone name.
    pub zone_name: String,
    /// That zone.
    pub zone: TimeZone,
    /// `(email, api token)` every API request must carry as HTTP Basic; none: any.
    pub credentials: Option<(String, String)>,
    /// Faults to inject.
    pub faults: FaultSpec,
    /// How long a change takes to reach search.
    pub index_lag: Duration,
    /// Delay added to every API request.
    pub latency: Duration,
}

/// Request statistics, as `GET /_fake/stats` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// API requests answered.
    pub total: u64,
    /// Counts by status.
    pub by_status: BTreeMap<u16, u64>,
    /// Counts by path (without the query), then by status.
    pub by_path: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Faults that fired, by kind (`http503`, `throttle`, `churn`, …).
    pub faults: BTreeMap<String, u64>,
}

impl Stats {
    /// Requests answered for `path`, any status.
    pub fn requests_to(&self, path: &str) -> u64 {
        self.by_path.get(path).map_or(0, |m| m.values().sum())
    }
}

/// Mutable state.
#[derive(Debug)]
pub struct State {
    /// The data.
    pub site: Site,
    /// What search sees of each issue (`None`: not indexed yet).
    pub index: Vec<Option<Issue>>,
    /// Changes on their way to the index: when, which issue, its snapshot.
    pending: Vec<(Instant, usize, Issue)>,
    /// Statistics.
    pub stats: Stats,
    /// API requests numbered so far.
    pub numbered: u64,
    /// Search requests with a page token so far.
    pub paged: u64,
    /// How often each fault rule fired.
    pub fired: Vec<u64>,
    /// How often each churn rule fired.
    pub churned: Vec<u64>,
    /// Every API request answered: `METHOD /path?query STATUS`.
    pub log: Vec<String>,
}

impl State {
    /// Moves the changes that are due into the index.
    pub fn catch_up(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(at, ..)| *at <= now);
        self.pending = later;
        for (_, n, issue) in due {
            self.index.resize(self.site.issues.len(), None);
            self.index[n] = Some(issue);
        }
    }

    /// Applies `m`; search sees it after `lag`.
    pub fn mutate(&mut self, m: &Mutation, lag: Duration) -> Result<(), String> {
        let n = self.site.apply(m)?;
        self.index.resize(self.site.issues.len(), None);
        let snapshot = self.site.issues[n].clone();
        if lag.is_zero() {
            self.index[n] = Some(snapshot);
        } else {
            self.pending.push((Instant::now() + lag, n, snapshot));
        }
        Ok(())
    }
}

/// A world shared by the server and the test.
#[derive(Debug)]
pub struct World {
    /// Settings.
    pub config: Config,
    /// `http(s)://127.0.0.1:PORT`.
    pub base: String,
    state: Mutex<State>,
}

/// What handlers hold.
pub type SharedWorld = Arc<World>;

impl World {
    /// A world serving `site` at `base`.
    pub fn new(site: Site, config: Config, base: String) -> World {
        let index = site.issues.iter().cloned().map(Some).collect();
        World {
            config,
            base,
            state: Mutex::new(State {
                site,
                index,
                pending: Vec::new(),
                stats: Stats::default(),
                numbered: 0,
                paged: 0,
                fired: Vec::new(),
                churned: Vec::new(),
                log: Vec::new(),
            }),
        }
    }

    /// The state, locked.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How v`version` renders for the user.
    pub fn render(&self, version: u8) -> Render<'_> {
        Render {
            base: &self.base,
            zone: &self.config.zone,
            version,
        }
    }

    /// The ground truth (v3 shapes).
    pub fn truth(&self) -> Truth {
        let state = self.lock();
        self.render(3).truth(&state.site)
    }

    /// Request statistics.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Every API request answered so far: `METHOD /path?query STATUS`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    /// Applies `m`, visible to search after the configured index lag.
    pub fn mutate(&self, m: &Mutation) -> Result<(), String> {
        self.lock().mutate(m, self.config.index_lag)
    }

    /// Moves the site's clock forward: the next change is dated `by` later.
    pub fn advance_clock(&self, by: Duration) {
        let mut state = self.lock();
        let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::ZERO);
        state.site.clock = state
            .site
            .clock
            .saturating_add(by)
            .unwrap_or(state.site.clock);
    }

    /// Applies `m`, visible to search after `lag`.
    pub fn mutate_with_lag(&self, m: &Mutation, lag: Duration) -> Result<(), String> {
        self.lock().mutate(m, lag)
    }
}
