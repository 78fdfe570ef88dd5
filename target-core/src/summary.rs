//! Counts kept during a load and the end-of-run summary printed on stderr.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Row counts of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounts {
    /// Rows that were new.
    pub inserted: u64,
    /// Rows that replaced a row with the same key.
    pub updated: u64,
    /// Records stored in `_sdc_rejected_records`.
    pub rejected: u64,
    /// Rows removed or marked deleted by ACTIVATE_VERSION.
    pub deactivated: u64,
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Counts per stream, by stream name.
    pub streams: BTreeMap<String, StreamCounts>,
    /// STATE values echoed after a commit.
    pub states_echoed: u64,
    /// Transactions committed.
    pub commits: u64,
    /// Wall time of the load.
    pub elapsed: Duration,
}

impl Summary {
    /// Records received, whatever became of them.
    pub fn records(&self) -> u64 {
        self.streams
            .values()
            .map(|c| c.inserted + c.updated + c.rejected)
            .sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.records() as f64 / secs
        } else {
            0.0
        };
        writeln!(
            f,
            "loaded {} records in {secs:.2} s ({rate:.0} records/s), {} commits, {} states echoed",
            self.records(),
            self.commits,
            self.states_echoed
        )?;
        if let Some(kb) = peak_rss_kb() {
            writeln!(f, "peak RSS {:.1} MB", kb as f64 / 1024.0)?;
        }
        for (stream, c) in &self.streams {
            writeln!(
                f,
                "  {stream}: {} inserted, {} updated, {} rejected, {} deactivated",
                c.inserted, c.updated, c.rejected, c.deactivated
            )?;
        }
        Ok(())
    }
}

/// The process's peak resident set size in KiB, where the OS tells it (Linux).
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
