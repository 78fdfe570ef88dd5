//! Deterministic fault injection, parsed from the `--faults` spec.
//!
//! A spec is a comma-separated list of rules, each `kind` followed by `:key=value` options:
//!
//! | rule | effect |
//! | --- | --- |
//! | `http500:every=N` (any `httpNNN`, 500–599) | every N-th API request answers NNN with a JSON error body |
//! | `secondary:every=N[:status=403\|429][:retry=S]` | every N-th request hits a secondary rate limit: `retry-after: S` (default 1) |
//! | `primary:budget=N[:status=403\|429][:reset=S]` | the primary limit is N requests; once spent, requests fail with remaining 0 until `x-ratelimit-reset` (now + S, default 2) |
//! | `truncate:every=N` | every N-th request sends the full `Content-Length`, half the body, then closes the connection |
//! | `slow:every=N[:ms=M]` | every N-th request is delayed by M ms (default 1000) before being answered normally |
//! | `churn:every=N[:issues=I][:pulls=P][:comments=C][:commits=K][:old_commits=O][:age_s=S]` | before every N-th request is answered, every repository changes: I issues (default 1) and P pull requests touched (a touched pull request may get a review), C comments edited, K commits pushed, O commits merged from a branch dated S seconds (default 86400) before the newest commit, with a merge commit |
//!
//! Requests are numbered from 1 in arrival order; `/rate_limit` and `/_fake/*` are neither
//! numbered nor faulted; requests refused with 401 or 403 (no `User-Agent`) are not numbered
//! either. Every rule takes an optional `from=K` (the first request it may hit, by default the
//! first) and `times=T` (how many times it fires at most). When several rules hit the same
//! request, `churn` changes the data first, `slow` delays it and the first other rule in spec
//! order decides the answer. Churn is deterministic too: what changes depends only on the seed,
//! the repository and the request number; repositories without commits get no commits.

use std::fmt;
use std::str::FromStr;

use crate::data::Mutation;
use crate::error::{Error, ErrorKind};

/// A parsed fault spec. The default injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultSpec {
    rules: Vec<Rule>,
}

/// One rule of a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    kind: Kind,
    every: u64,
    from: u64,
    times: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Http(u16),
    Secondary {
        status: u16,
        retry: u64,
    },
    Primary {
        budget: u64,
        status: u16,
        reset: u64,
    },
    Truncate,
    Slow {
        ms: u64,
    },
    Churn(Churn),
}

/// What one churn event changes in every repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Churn {
    issues: u32,
    pulls: u32,
    comments: u32,
    commits: u32,
    old_commits: u32,
    age_s: u64,
}

impl Churn {
    fn mutation(self) -> Mutation {
        Mutation {
            new_commits: self.commits,
            update_issues: self.issues,
            update_pulls: self.pulls,
            update_comments: self.comments,
            merged_commits: self.old_commits,
            merged_age_s: self.age_s,
            merge_commit: true,
            ..Mutation::NONE
        }
    }
}

impl Rule {
    /// Whether the rule fires on request number `n`.
    fn hits(&self, n: u64) -> bool {
        if self.every == 0 || n < self.from || !(n - self.from + 1).is_multiple_of(self.every) {
            return false;
        }
        self.times
            .is_none_or(|t| (n - self.from + 1) / self.every <= t)
    }
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer with this 5xx status.
    Http(u16),
    /// Secondary rate limit with this status and `retry-after`.
    Secondary { status: u16, retry: u64 },
    /// Cut the body short.
    Truncate,
}

/// The primary-limit settings of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PrimaryLimit {
    pub budget: u64,
    pub status: u16,
    pub reset: u64,
}

impl FaultSpec {
    /// True when the spec injects nothing.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The delay and the fault for request number `n` (1-based).
    pub(crate) fn decide(&self, n: u64) -> (Option<u64>, Option<Fault>) {
        let mut slow = None;
        let mut fault = None;
        for r in self.rules.iter().filter(|r| r.hits(n)) {
            match r.kind {
                Kind::Slow { ms } => slow = Some(slow.unwrap_or(0) + ms),
                Kind::Http(s) => fault = fault.or(Some(Fault::Http(s))),
                Kind::Secondary { status, retry } => {
                    fault = fault.or(Some(Fault::Secondary { status, retry }));
                }
                Kind::Truncate => fault = fault.or(Some(Fault::Truncate)),
                Kind::Primary { .. } | Kind::Churn(_) => {}
            }
        }
        (slow, fault)
    }

    /// The change to apply to every repository before request number `n` is answered, if a
    /// churn rule fires on it.
    pub(crate) fn churn(&self, n: u64) -> Option<Mutation> {
        self.rules
            .iter()
            .filter(|r| r.hits(n))
            .find_map(|r| match r.kind {
                Kind::Churn(c) => Some(c.mutation()),
                _ => None,
            })
    }

    /// The primary-limit rule, if any.
    pub(crate) fn primary(&self) -> Option<PrimaryLimit> {
        self.rules.iter().find_map(|r| match r.kind {
            Kind::Primary {
                budget,
                status,
                reset,
            } => Some(PrimaryLimit {
                budget,
                status,
                reset,
            }),
            _ => None,
        })
    }
}

fn invalid(spec: &str, reason: impl Into<String>) -> Error {
    ErrorKind::InvalidFaultSpec {
        spec: spec.to_owned(),
        reason: reason.into(),
    }
    .into()
}

impl FromStr for FaultSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<FaultSpec, Error> {
        let mut rules = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut fields = part.split(':');
            let name = fields.next().unwrap_or_default();
            let mut opts: Vec<(&str, u64)> = Vec::new();
            for f in fields {
                let (k, v) = f
                    .split_once('=')
                    .ok_or_else(|| invalid(part, format!("{f:?} is not key=value")))?;
                let v: u64 = v
                    .parse()
                    .map_err(|_| invalid(part, format!("{k}={v} is not a number")))?;
                opts.push((k, v));
            }
            let get = |k: &str| opts.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
            let allowed: &[&str] = match name {
                "secondary" => &["every", "from", "times", "status", "retry"],
                "primary" => &["budget", "status", "reset"],
                "slow" => &["every", "from", "times", "ms"],
                "churn" => &[
                    "every",
                    "from",
                    "times",
                    "issues",
                    "pulls",
                    "comments",
                    "commits",
                    "old_commits",
                    "age_s",
                ],
                _ => &["every", "from", "times"],
            };
            if let Some((k, _)) = opts.iter().find(|(k, _)| !allowed.contains(k)) {
                return Err(invalid(part, format!("unknown option {k:?} for {name}")));
            }
            let status = |default: u16| -> Result<u16, Error> {
                match get("status").unwrap_or(u64::from(default)) {
                    403 => Ok(403),
                    429 => Ok(429),
                    other => Err(invalid(
                        part,
                        format!("status must be 403 or 429, not {other}"),
                    )),
                }
            };
            let kind = match name {
                "secondary" => Kind::Secondary {
                    status: status(403)?,
                    retry: get("retry").unwrap_or(1),
                },
                "primary" => Kind::Primary {
                    budget: get("budget").ok_or_else(|| invalid(part, "primary needs budget=N"))?,
                    status: status(403)?,
                    reset: get("reset").unwrap_or(2),
                },
                "truncate" => Kind::Truncate,
                "slow" => Kind::Slow {
                    ms: get("ms").unwrap_or(1000),
                },
                "churn" => {
                    let count = |k: &str, default: u32| -> Result<u32, Error> {
                        let v = get(k).unwrap_or(u64::from(default));
                        u32::try_from(v).map_err(|_| invalid(part, format!("{k}={v} is too large")))
                    };
                    Kind::Churn(Churn {
                        issues: count("issues", 1)?,
                        pulls: count("pulls", 0)?,
                        comments: count("comments", 0)?,
                        commits: count("commits", 0)?,
                        old_commits: count("old_commits", 0)?,
                        age_s: get("age_s").unwrap_or(86_400),
                    })
                }
                http if http.starts_with("http") => match http[4..].parse::<u16>() {
                    Ok(code) if (500..600).contains(&code) => Kind::Http(code),
                    _ => return Err(invalid(part, "httpNNN needs a 5xx status")),
                },
                other => return Err(invalid(part, format!("unknown fault {other:?}"))),
            };
            let every = match kind {
                Kind::Primary { .. } => 0,
                _ => match get("every") {
                    Some(0) | None => return Err(invalid(part, "every=N (N >= 1) is required")),
                    Some(n) => n,
                },
            };
            rules.push(Rule {
                kind,
                every,
                from: get("from").unwrap_or(1).max(1),
                times: get("times"),
            });
        }
        Ok(FaultSpec { rules })
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .rules
            .iter()
            .map(|r| {
                let mut s = match &r.kind {
                    Kind::Http(code) => format!("http{code}:every={}", r.every),
                    Kind::Secondary { status, retry } => {
                        format!("secondary:every={}:status={status}:retry={retry}", r.every)
                    }
                    Kind::Primary {
                        budget,
                        status,
                        reset,
                    } => {
                        format!("primary:budget={budget}:status={status}:reset={reset}")
                    }
                    Kind::Truncate => format!("truncate:every={}", r.every),
                    Kind::Slow { ms } => format!("slow:every={}:ms={ms}", r.every),
                    Kind::Churn(c) => format!(
                        "churn:every={}:issues={}:pulls={}:comments={}:commits={}:old_commits={}:age_s={}",
                        r.every, c.issues, c.pulls, c.comments, c.commits, c.old_commits, c.age_s
                    ),
                };
                if r.from != 1 {
                    s.push_str(&format!(":from={}", r.from));
                }
                if let Some(t) = r.times {
                    s.push_str(&format!(":times={t}"));
                }
                s
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let spec: FaultSpec =
            "http500:every=7,secondary:every=11,primary:budget=50,truncate:every=13,slow:every=5:ms=1500"
                .parse()
                .unwrap();
        assert_eq!(spec.decide(7), (None, Some(Fault::Http(500))));
        assert_eq!(
            spec.decide(11),
            (
                None,
                Some(Fault::Secondary {
                    status: 403,
                    retry: 1
                })
            )
        );
        assert_eq!(spec.decide(13), (None, Some(Fault::Truncate)));
        assert_eq!(spec.decide(5), (Some(1500), None));
        assert_eq!(spec.decide(35), (Some(1500), Some(Fault::Http(500))));
        assert_eq!(spec.decide(1), (None, None));
        assert_eq!(
            spec.primary(),
            Some(PrimaryLimit {
                budget: 50,
                status: 403,
                reset: 2
            })
        );
        let again: FaultSpec = spec.to_string().parse().unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn from_and_times_bound_a_rule() {
        let spec: FaultSpec = "http502:every=1:from=3:times=2".parse().unwrap();
        let hits: Vec<u64> = (1..10).filter(|n| spec.decide(*n).1.is_some()).collect();
        assert_eq!(hits, vec![3, 4]);
    }

    #[test]
    fn churn_fires_every_n_requests_with_its_counts() {
        let spec: FaultSpec =
            "churn:every=3:pulls=2:old_commits=4:age_s=60:times=2,http500:every=3"
                .parse()
                .unwrap();
        let hits: Vec<u64> = (1..20).filter(|n| spec.churn(*n).is_some()).collect();
        assert_eq!(hits, vec![3, 6]);
        let m = spec.churn(3).unwrap();
        assert_eq!(
            m,
            Mutation {
                update_issues: 1,
                update_pulls: 2,
                merged_commits: 4,
                merged_age_s: 60,
                merge_commit: true,
                ..Mutation::NONE
            }
        );
        assert_eq!(
            spec.decide(3),
            (None, Some(Fault::Http(500))),
            "churn answers nothing"
        );
        let again: FaultSpec = spec.to_string().parse().unwrap();
        assert_eq!(again, spec);
        let plain: FaultSpec = "churn:every=5".parse().unwrap();
        assert_eq!(
            plain.churn(5).map(|m| (m.update_issues, m.merged_age_s)),
            Some((1, 86_400))
        );
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "http200:every=1",
            "bogus:every=1",
            "slow",
            "http500:every=0",
            "primary:every=3",
            "secondary:every=2:status=500",
            "truncate:every=x",
            "churn:issues=2",
            "churn:every=2:ms=5",
            "churn:every=2:issues=99999999999",
        ] {
            assert!(
                bad.parse::<FaultSpec>().is_err(),
                "{bad} should be rejected"
            );
        }
        assert!("".parse::<FaultSpec>().unwrap().is_empty());
    }
}
