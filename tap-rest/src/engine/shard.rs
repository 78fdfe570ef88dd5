//! Sharded runs: N workers split the partitions between them by a stable hash, each running
//! only the partitions of its shard (`shard = "K/N"`, K from 1). The hash is 64-bit FNV-1a of
//! the partition value's UTF-8 bytes (lowercased when the connector compares names ignoring
//! case); a value belongs to shard `hash % N + 1`, the same on every machine and release.
//!
//! A shard runs only what can be split without touching another shard's rows: top-level
//! streams that are partitioned and incremental, with their children. Full-table streams (their
//! ACTIVATE_VERSION would retire the rows of the other shards) and streams without partitions
//! run in an unsharded run.

use serde_json::{Map, Value};

use super::error::Error;

/// Name of the setting that selects a shard.
pub const SETTING: &str = "shard";

/// One shard of N: `index` in `1..=count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 1.
    pub index: u64,
    /// How many shards split the partitions.
    pub count: u64,
}

impl Shard {
    /// Parses `K/N` with `1 <= K <= N`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not K/N with 1 <= K <= N (e.g. 2/3)");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    /// The shard the settings select, if any.
    pub fn from_settings(settings: &Map<String, Value>) -> Result<Option<Self>, Error> {
        match settings.get(SETTING) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Self::parse(s)
                .map(Some)
                .map_err(|e| Error::Setup(format!("`{SETTING}`: {e}"))),
            Some(other) => Err(Error::Setup(format!(
                "`{SETTING}`: {other} is not a string K/N"
            ))),
        }
    }

    /// Whether partition `value` belongs to this shard.
    pub fn holds(&self, value: &str, case_insensitive: bool) -> bool {
        let hash = if case_insensitive {
            fnv1a64(value.to_lowercase().as_bytes())
        } else {
            fnv1a64(value.as_bytes())
        };
        hash % self.count + 1 == self.index
    }
}

/// 64-bit FNV-1a.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_value_is_in_exactly_one_shard_ignoring_case_when_asked() {
        let names: Vec<String> = (0..200).map(|i| format!("Org/Repo-{i}")).collect();
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        let mut sizes = [0; 3];
        for name in &names {
            let owners: Vec<usize> = (0..3).filter(|s| shards[*s].holds(name, true)).collect();
            assert_eq!(owners.len(), 1, "{name}");
            sizes[owners[0]] += 1;
            assert!(shards[owners[0]].holds(&name.to_uppercase(), true));
        }
        assert!(sizes.iter().all(|n| *n > 40), "{sizes:?}");
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
