//! The data with the server's settings and counters, shared by the handlers and the test that
//! started the server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::data::{Data, Mutation, Truth};
use crate::faults::{FaultKind, FaultSpec};

/// Server settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    pub token: Option<String>,
    pub faults: FaultSpec,
    pub latency: Duration,
    /// Send `RateLimit-*` headers on every answer, not only on 429s.
    pub ratelimit_always: bool,
    /// Seconds a 429 asks to wait.
    pub retry_after_s: u64,
}

/// Requests seen, for figures and for checking which endpoints a client calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// API requests (control endpoints not counted).
    pub requests: u64,
    /// Requests by path (the query left out).
    pub by_path: BTreeMap<String, u64>,
    /// Each request as `GET path?query`, with the value of `private_token` masked.
    pub log: Vec<String>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub data: Data,
    pub stats: Stats,
    /// Requests each fault rule has counted and times it fired.
    pub fault_counts: Vec<(u64, u64)>,
}

/// The instance behind a server: cheap to clone.
#[derive(Debug, Clone)]
pub struct SharedWorld {
    pub(crate) inner: Arc<Mutex<Inner>>,
    pub(crate) config: Arc<Config>,
}

impl SharedWorld {
    pub(crate) fn new(data: Data, config: Config) -> SharedWorld {
        let n = config.faults.faults.len();
        SharedWorld {
            inner: Arc::new(Mutex::new(Inner {
                data,
                stats: Stats::default(),
                fault_counts: vec![(0, 0); n],
            })),
            config: Arc::new(config),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The ground truth of a project (numeric id or full path).
    pub fn truth(&self, project: &str) -> Option<Truth> {
        let g = self.lock();
        g.data.project_index(project).map(|p| g.data.truth(p))
    }

    /// Full paths of every project.
    pub fn project_paths(&self) -> Vec<String> {
        self.lock()
            .data
            .projects
            .iter()
            .map(|p| p.path.clone())
            .collect()
    }

    /// Applies a mutation to a project.
    pub fn mutate(&self, project: &str, m: &Mutation) -> Result<(), String> {
        let mut g = self.lock();
        let p = g
            .data
            .project_index(project)
            .ok_or_else(|| format!("no project {project}"))?;
        g.data.mutate(p, m)
    }

    /// The request counters so far.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Sets the request counters back to zero (faults keep counting).
    pub fn reset_stats(&self) {
        self.lock().stats = Stats::default();
    }

    /// Counts a request; returns the fault to inject, if one fires.
    pub(crate) fn count(&self, line: String, path: &str, churnable: bool) -> Option<FaultKind> {
        let mut g = self.lock();
        g.stats.requests += 1;
        *g.stats.by_path.entry(path.to_owned()).or_default() += 1;
        g.stats.log.push(line);
        let mut fired = None;
        for (i, f) in self.config.faults.faults.iter().enumerate() {
            if f.kind == FaultKind::Churn && !churnable {
                continue;
            }
            let (seen, times) = &mut g.fault_counts[i];
            *seen += 1;
            let spent = f.budget.is_some_and(|b| *times >= b);
            if fired.is_none() && !spent && (*seen).is_multiple_of(f.every) {
                *times += 1;
                fired = Some(f.kind);
            }
        }
        if let Some(k) = fired {
            *g.stats
                .faults
                .entry(format!("{k:?}").to_lowercase())
                .or_default() += 1;
        }
        fired
    }
}
