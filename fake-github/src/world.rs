//! The served world: generated data plus server settings and the mutable runtime state (request
//! counter for faults, primary rate-limit window, request statistics).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::data::{Data, Mutation, Truth, mutate};
use crate::error::{Error, ErrorKind, Result};
use crate::faults::FaultSpec;
use crate::util::Rng;
use crate::util::now_secs;

/// A world shared between the server and the test that drives it.
pub type SharedWorld = Arc<World>;

/// Hourly request budget, as for an authenticated token.
pub(crate) const DEFAULT_LIMIT: u64 = 5_000;

/// Everything one fake GitHub serves. Build it with [`crate::FakeGithub::builder`].
#[derive(Debug)]
pub struct World {
    pub(crate) data: Data,
    pub(crate) config: Config,
    state: Mutex<Runtime>,
    /// While set, `churn` rules change nothing (other faults still fire).
    calm: std::sync::atomic::AtomicBool,
}

/// Server settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    pub latency: Duration,
    pub token: Option<String>,
    pub faults: FaultSpec,
    pub issue_cursor: IssueCursor,
}

/// What the opaque `after=` cursor of `/issues` pages holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IssueCursor {
    /// The sort key and number of the page's last item: a page walk never skips an item, even
    /// when the list changes under it.
    #[default]
    Keyset,
    /// The position after the page in the sorted list, like a page number: items shift when the
    /// list changes, so a walk can skip or repeat some (real cursors promise nothing).
    Offset,
}

impl FromStr for IssueCursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<IssueCursor> {
        match s {
            "keyset" => Ok(IssueCursor::Keyset),
            "offset" => Ok(IssueCursor::Offset),
            other => Err(ErrorKind::InvalidIssueCursor(other.to_owned()).into()),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Runtime {
    /// API requests numbered so far (what faults count).
    pub requests: u64,
    pub rate: RateWindow,
    pub stats: Stats,
}

/// The primary rate-limit window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateWindow {
    pub limit: u64,
    pub used: u64,
    /// Epoch seconds when the window resets.
    pub reset: i64,
    /// Window length once it resets (an hour, or the fault's short reset).
    pub exhausted_reset: Option<u64>,
}

impl RateWindow {
    /// Starts a new window when the current one has passed.
    pub(crate) fn roll(&mut self, now: i64) {
        if now >= self.reset {
            self.used = 0;
            self.reset = now + 3_600;
        }
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

/// Requests served, by path and by status (`GET /_fake/stats`). `/_fake/*` is not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// All requests answered.
    pub total: u64,
    /// Request counts by status code.
    pub by_status: BTreeMap<u16, u64>,
    /// Request counts by path (without query), then by status code.
    pub by_path: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Churn events applied (each changed every repository; see [`crate::faults`]).
    #[serde(default)]
    pub churns: u64,
    /// Injected faults that fired, by kind (`http500`, `secondary`, `primary`, `truncate`,
    /// `slow`), so a test can check that each one it asked for happened.
    #[serde(default)]
    pub faults: BTreeMap<String, u64>,
}

impl Stats {
    /// Requests answered for `path`, any status.
    pub fn requests_to(&self, path: &str) -> u64 {
        self.by_path.get(path).map_or(0, |m| m.values().sum())
    }
}

impl World {
    pub(crate) fn new(data: Data, config: Config) -> World {
        let (limit, exhausted_reset) = match config.faults.primary() {
            Some(p) => (p.budget, Some(p.reset)),
            None => (DEFAULT_LIMIT, None),
        };
        let rate = RateWindow {
            limit,
            used: 0,
            reset: now_secs() + 3_600,
            exhausted_reset,
        };
        World {
            data,
            config,
            state: Mutex::new(Runtime {
                requests: 0,
                rate,
                stats: Stats::default(),
            }),
            calm: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(crate) fn runtime(&self) -> MutexGuard<'_, Runtime> {
        // A panic while holding the lock leaves plain counters behind: still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The ground truth of repository `owner/name`, or `None` if there is no such repository.
    pub fn truth(&self, repo: &str) -> Option<Truth> {
        let i = self.data.find(repo)?;
        let r = self.data.repos[i]
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(r.truth(&self.data.users))
    }

    /// Request statistics so far.
    pub fn stats(&self) -> Stats {
        self.runtime().stats.clone()
    }

    /// Adds new activity to repository `owner/name` (see [`Mutation`]).
    pub fn mutate(&self, repo: &str, m: Mutation) -> Result<()> {
        let i = self
            .data
            .find(repo)
            .ok_or_else(|| ErrorKind::UnknownRepo(repo.to_owned()))?;
        let mut r = self.data.repos[i]
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        mutate::apply_next(&self.data, &mut r, m);
        Ok(())
    }

    /// Counts one firing of fault `kind`.
    pub(crate) fn fired(&self, kind: &str) {
        *self
            .runtime()
            .stats
            .faults
            .entry(kind.to_owned())
            .or_default() += 1;
    }

    /// Stops (`true`) or resumes (`false`) the changes of `churn` fault rules, so that a test
    /// can follow disturbed runs with a quiet one. Requests are still numbered meanwhile.
    pub fn set_calm(&self, calm: bool) {
        self.calm.store(calm, std::sync::atomic::Ordering::SeqCst);
    }

    /// Applies a churn event (request `number`'s) to every repository, one at a time, unless
    /// the world is calm. The caller holds no lock: a request being answered takes its read
    /// lock only after this.
    pub(crate) fn churn(&self, number: u64, m: Mutation) {
        if self.calm.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        for lock in &self.data.repos {
            let mut repo = lock
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut m = m;
            if repo.commits.is_empty() {
                // An empty repository stays one (409 on /commits).
                m.new_commits = 0;
                m.merged_commits = 0;
            }
            let label = format!("{}#churn{number}", repo.full_name);
            mutate::apply(
                &self.data,
                &mut repo,
                m,
                &mut Rng::new(self.data.seed, &label),
            );
        }
        self.runtime().stats.churns += 1;
    }

    /// Names (`owner/name`) of every repository, in declaration order.
    pub fn repo_names(&self) -> Vec<String> {
        self.data
            .repos
            .iter()
            .map(|r| {
                r.read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .full_name
                    .clone()
            })
            .collect()
    }

    /// The base URL used inside item bodies (`url`, `comments_url`, …).
    pub fn base_url(&self) -> &str {
        &self.data.base
    }

    /// Bytes held by pre-serialised items across all repositories (approximate).
    pub fn heap_size(&self) -> usize {
        let users: usize = self.data.user_json.iter().map(|u| u.len()).sum();
        users
            + self
                .data
                .repos
                .iter()
                .map(|r| {
                    r.read()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .heap_size()
                })
                .sum::<usize>()
    }
}
