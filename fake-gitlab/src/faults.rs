//! Deterministic faults, counted per API request: `http500:every=7,http502:every=11,
//! ratelimit:every=5,churn:every=2`, each with an optional `budget=N` (at most N times).
//! `churn` counts only issue and merge request lists: before answering, the first item of the
//! list asked for is updated, so it moves to the end and everything after it shifts forward.

use std::str::FromStr;

/// A fault kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `500 Internal Server Error`.
    Http500,
    /// `502 Bad Gateway`.
    Http502,
    /// `429 Too Many Requests` with `Retry-After` and the `RateLimit-*` headers.
    RateLimit,
    /// An issue or merge request updated between two page requests.
    Churn,
}

/// One rule: a kind, every how many requests, at most how many times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// Every N-th request it counts.
    pub every: u64,
    /// At most this many times.
    pub budget: Option<u64>,
}

/// A set of fault rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultSpec {
    /// The rules, in the order given.
    pub faults: Vec<Fault>,
}

/// A fault spec that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("faults: `{0}`: {1}")]
pub struct FaultSpecError(String, String);

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut faults = vec![];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let err = |m: &str| FaultSpecError(part.to_owned(), m.to_owned());
            let mut fields = part.split(':');
            let kind = match fields.next().unwrap_or_default() {
                "http500" => FaultKind::Http500,
                "http502" => FaultKind::Http502,
                "ratelimit" => FaultKind::RateLimit,
                "churn" => FaultKind::Churn,
                _ => return Err(err("unknown kind (http500, http502, ratelimit, churn)")),
            };
            let (mut every, mut budget) = (None, None);
            for kv in fields {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| err("expected key=value"))?;
                let n: u64 = v.parse().map_err(|_| err("not a number"))?;
                match k {
                    "every" if n > 0 => every = Some(n),
                    "budget" => budget = Some(n),
                    _ => return Err(err("expected every=N (N > 0) or budget=N")),
                }
            }
            let every = every.ok_or_else(|| err("every=N is required"))?;
            faults.push(Fault {
                kind,
                every,
                budget,
            });
        }
        Ok(FaultSpec { faults })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_names_bad_ones() {
        let s: FaultSpec = "http500:every=3:budget=2, churn:every=1"
            .parse()
            .expect("valid");
        assert_eq!(s.faults.len(), 2);
        assert_eq!(s.faults[0].budget, Some(2));
        let e = "boom:every=1".parse::<FaultSpec>().expect_err("unknown");
        assert!(e.to_string().contains("boom"), "{e}");
        assert!("http500".parse::<FaultSpec>().is_err());
    }
}
