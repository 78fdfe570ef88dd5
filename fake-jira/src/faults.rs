//! Deterministic faults, parsed from the `--faults` spec: comma-separated rules, each a kind
//! followed by `:key=value` options.
//!
//! | rule | effect |
//! | --- | --- |
//! | `httpNNN:every=N` (500–599) | every N-th API request answers NNN with Jira's error body |
//! | `throttle:every=N[:retry=S]` | every N-th API request answers 429 with `Retry-After: S` (default 1) |
//! | `churn:every=N` | before every N-th search request that carries a `nextPageToken` is answered, the issue at the head of its order is updated (it moves past the pages already read) |
//!
//! API requests are numbered from 1 in arrival order; `/_fake/*` and requests refused with 401
//! are not numbered. Every rule takes `from=K` (the first request it may hit) and `times=T` (how
//! many times it fires at most).

use std::str::FromStr;

/// A parsed spec; the default injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultSpec {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    kind: Kind,
    every: u64,
    from: u64,
    times: Option<u64>,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A server error with this status.
    Http(u16),
    /// 429 with `Retry-After` seconds.
    Throttle(u64),
    /// An update between two search pages.
    Churn,
}

impl Kind {
    /// The name counted in the statistics.
    pub fn name(self) -> String {
        match self {
            Kind::Http(s) => format!("http{s}"),
            Kind::Throttle(_) => "throttle".into(),
            Kind::Churn => "churn".into(),
        }
    }
}

/// Why a spec cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault spec `{spec}`: {why}")]
pub struct SpecError {
    spec: String,
    why: String,
}

impl FromStr for FaultSpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<FaultSpec, SpecError> {
        let bad = |why: String| SpecError {
            spec: s.to_owned(),
            why,
        };
        let mut rules = Vec::new();
        for rule in s.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let mut parts = rule.split(':');
            let name = parts.next().unwrap_or_default();
            let (mut every, mut from, mut times, mut retry) = (None, 1, None, 1);
            for opt in parts {
                let (k, v) = opt
                    .split_once('=')
                    .ok_or_else(|| bad(format!("`{opt}` is not key=value")))?;
                let n: u64 = v
                    .parse()
                    .map_err(|_| bad(format!("`{v}` is not a number")))?;
                match k {
                    "every" => every = Some(n.max(1)),
                    "from" => from = n,
                    "times" => times = Some(n),
                    "retry" => retry = n,
                    _ => return Err(bad(format!("unknown option `{k}`"))),
                }
            }
            let kind = match name {
                "throttle" => Kind::Throttle(retry),
                "churn" => Kind::Churn,
                n => match n.strip_prefix("http").and_then(|s| s.parse::<u16>().ok()) {
                    Some(status @ 500..=599) => Kind::Http(status),
                    _ => return Err(bad(format!("unknown rule `{n}`"))),
                },
            };
            let every = every.ok_or_else(|| bad(format!("`{name}` needs every=N")))?;
            rules.push(Rule {
                kind,
                every,
                from,
                times,
            });
        }
        Ok(FaultSpec { rules })
    }
}

impl FaultSpec {
    /// The first rule other than churn that hits API request `n`, given how often each rule
    /// fired so far (`fired`, by rule index, updated).
    pub fn hit(&self, n: u64, fired: &mut Vec<u64>, churn: bool) -> Option<Kind> {
        fired.resize(self.rules.len(), 0);
        for (i, r) in self.rules.iter().enumerate() {
            if (r.kind == Kind::Churn) != churn
                || n < r.from
                || !(n - r.from + 1).is_multiple_of(r.every)
            {
                continue;
            }
            if r.times.is_some_and(|t| fired[i] >= t) {
                continue;
            }
            fired[i] += 1;
            return Some(r.kind);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rules_fire_every_n_within_their_limits() {
        let spec: FaultSpec = "http503:every=3,throttle:every=4:retry=0:times=1,churn:every=2"
            .parse()
            .unwrap();
        let mut fired = Vec::new();
        let hits: Vec<Option<Kind>> = (1..=8).map(|n| spec.hit(n, &mut fired, false)).collect();
        assert_eq!(
            hits,
            [
                None,
                None,
                Some(Kind::Http(503)),
                Some(Kind::Throttle(0)),
                None,
                Some(Kind::Http(503)),
                None,
                None
            ]
        );
        let mut fired = Vec::new();
        assert_eq!(spec.hit(2, &mut fired, true), Some(Kind::Churn));
        assert!("http404:every=2".parse::<FaultSpec>().is_err());
        assert!("throttle".parse::<FaultSpec>().is_err());
    }
}
