//! The marts computed independently, in Rust, from `fake-github`'s ground truth (what
//! `/_fake/truth` returns), with none of the dbt SQL.

use std::collections::{BTreeMap, BTreeSet};

use fake_github::Truth;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::marts::{CommitsByMonth, CommitsByUser, Key, Marts, Resolution};

fn month(ts: &str) -> String {
    ts[..7].to_string()
}

fn key(repo: &str, k: &str) -> Key {
    (repo.to_string(), k.to_string())
}

fn hours_between(from: &str, to: &str) -> f64 {
    let from = OffsetDateTime::parse(from, &Rfc3339).unwrap();
    let to = OffsetDateTime::parse(to, &Rfc3339).unwrap();
    (to - from).as_seconds_f64() / 3600.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let m = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    round2(m)
}

/// What every mart must hold for these repositories.
pub fn from_truth(truths: &[Truth]) -> Marts {
    let mut m = Marts::default();
    for t in truths {
        let repo = t.repo.as_str();
        let c = &t.counts;
        for (model, n) in [
            ("stg_commits", c.commits),
            ("stg_issues", c.issues_and_pulls),
            ("stg_pull_requests", c.pulls),
            ("stg_issue_comments", c.comments),
            ("stg_releases", c.releases),
            ("stg_stargazers", c.stargazers),
            ("stg_contributors", c.contributors),
            ("stg_repositories", 1),
        ] {
            if n > 0 {
                m.staged_counts
                    .insert(key(repo, model), i64::try_from(n).unwrap());
            }
        }
        assert_eq!(
            t.commits.len(),
            c.commits,
            "truth of {repo} is inconsistent"
        );

        // Commits: by committer month; the author is the linked login, else the e-mail.
        let mut authors_by_month: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
        let mut months_by_user: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
        for commit in &t.commits {
            let author = commit
                .author_login
                .clone()
                .unwrap_or_else(|| commit.author_email.clone());
            let at = &commit.committer_date;
            let k = key(repo, &month(at));
            let by_month = m
                .commits_by_month
                .entry(k.clone())
                .or_insert_with(|| CommitsByMonth {
                    first_commit_at: at.clone(),
                    last_commit_at: at.clone(),
                    ..Default::default()
                });
            by_month.commits += 1;
            by_month.merge_commits += i64::from(commit.parents > 1);
            by_month.first_commit_at = by_month.first_commit_at.clone().min(at.clone());
            by_month.last_commit_at = by_month.last_commit_at.clone().max(at.clone());
            authors_by_month
                .entry(k)
                .or_default()
                .insert(author.clone());
            let user = key(repo, &author);
            months_by_user
                .entry(user.clone())
                .or_default()
                .insert(month(at));
            let by_user = m
                .commits_by_user
                .entry(user)
                .or_insert_with(|| CommitsByUser {
                    first_commit_at: at.clone(),
                    last_commit_at: at.clone(),
                    ..Default::default()
                });
            by_user.commits += 1;
            by_user.is_github_account |= commit.author_login.is_some();
            by_user.first_commit_at = by_user.first_commit_at.clone().min(at.clone());
            by_user.last_commit_at = by_user.last_commit_at.clone().max(at.clone());
        }
        for (k, authors) in authors_by_month {
            m.commits_by_month.get_mut(&k).unwrap().distinct_authors =
                i64::try_from(authors.len()).unwrap();
        }
        for (k, months) in months_by_user {
            m.commits_by_user.get_mut(&k).unwrap().active_months =
                i64::try_from(months.len()).unwrap();
        }

        // Issues and pull requests: each event in the month it happened.
        let mut hours_by_month: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
        for issue in &t.issues {
            let opened = m
                .issues_by_month
                .entry(key(repo, &month(&issue.created_at)))
                .or_default();
            let by_user = m
                .issues_by_user
                .entry(key(repo, &issue.author_login))
                .or_default();
            if issue.is_pr {
                opened[2] += 1;
                by_user[1] += 1;
                if let Some(merged) = &issue.merged_at {
                    m.issues_by_month
                        .entry(key(repo, &month(merged)))
                        .or_default()[3] += 1;
                    m.issues_by_user
                        .get_mut(&key(repo, &issue.author_login))
                        .unwrap()[2] += 1;
                }
            } else {
                opened[0] += 1;
                by_user[0] += 1;
                if let Some(closed) = &issue.closed_at {
                    m.issues_by_month
                        .entry(key(repo, &month(closed)))
                        .or_default()[1] += 1;
                    hours_by_month
                        .entry(key(repo, &month(closed)))
                        .or_default()
                        .push(hours_between(&issue.created_at, closed));
                }
            }
        }
        for comment in &t.comments {
            m.issues_by_user
                .entry(key(repo, &comment.author_login))
                .or_default()[3] += 1;
        }
        for (k, hours) in hours_by_month {
            let n = hours.len();
            let resolution = Resolution {
                issues_closed: i64::try_from(n).unwrap(),
                mean_hours_to_close: round2(hours.iter().sum::<f64>() / n as f64),
                max_hours_to_close: round2(hours.iter().copied().fold(f64::MIN, f64::max)),
                median_hours_to_close: median(hours),
            };
            m.issue_resolution.insert(k, resolution);
        }
    }
    m
}
