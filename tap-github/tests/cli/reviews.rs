//! `pull_request_reviews`, a child of `pull_requests`: one list per pull request the run reads.
//! A full run reads every review; an incremental run reads the reviews of the pull requests it
//! emits and of no other; selected alone, the parent drives it without a message of its own;
//! a STATE covering pull requests comes only after their reviews.

use std::collections::{BTreeMap, BTreeSet};

use fake_github::{FakeGithub, Mutation, RepoSize, RunningFake, Stats};
use serde_json::{Map, Value, json};

use crate::support::*;

const REPOS: [&str; 2] = ["octo/app", "octo/lib"];

/// A review as compared: repository, pull number, user login, state, submission time.
type Row = (String, u64, String, String, Option<String>);

/// What the truth says, by review id.
fn truth_rows(fake: &RunningFake, repos: &[&str]) -> BTreeMap<u64, Row> {
    let mut out = BTreeMap::new();
    for repo in repos {
        for r in fake.truth(repo).unwrap().reviews {
            let row = (
                (*repo).to_owned(),
                u64::from(r.pull_number),
                r.user_login,
                r.state,
                r.submitted_at,
            );
            assert!(out.insert(r.id, row).is_none(), "review id {} twice", r.id);
        }
    }
    out
}

/// What a run emitted, by review id (no id twice).
fn emitted_rows(run: &Run) -> BTreeMap<u64, Row> {
    let mut out = BTreeMap::new();
    for r in run.records("pull_request_reviews") {
        let number = r["_sdc_pull_number"].as_u64().unwrap();
        let url = r["pull_request_url"].as_str().unwrap();
        assert!(
            url.ends_with(&format!("/pulls/{number}")),
            "{url} vs {number}"
        );
        let row = (
            r["_sdc_repository"].as_str().unwrap().to_owned(),
            number,
            r["user"]["login"].as_str().unwrap().to_owned(),
            r["state"].as_str().unwrap().to_owned(),
            r.get("submitted_at")
                .and_then(Value::as_str)
                .map(str::to_owned),
        );
        let id = r["id"].as_u64().unwrap();
        assert!(out.insert(id, row).is_none(), "review {id} emitted twice");
    }
    out
}

/// (repository, number) of the pull requests a run emitted.
fn pulls_emitted(run: &Run) -> BTreeSet<(String, u64)> {
    run.records("pull_requests")
        .iter()
        .map(|r| pull_of(r))
        .collect()
}

fn pull_of(r: &Map<String, Value>) -> (String, u64) {
    (
        r["_sdc_repository"].as_str().unwrap().to_owned(),
        r["number"].as_u64().unwrap(),
    )
}

/// (repository, number) → review list requests made between two stats.
fn review_requests(before: &Stats, after: &Stats) -> BTreeMap<(String, u64), u64> {
    let mut out = BTreeMap::new();
    for (path, statuses) in &after.by_path {
        let Some(rest) = path.strip_prefix("/repos/") else {
            continue;
        };
        let Some((repo, tail)) = rest.split_once("/pulls/") else {
            continue;
        };
        let Some(number) = tail.strip_suffix("/reviews") else {
            continue;
        };
        let now: u64 = statuses.values().sum();
        let then = before.requests_to(path);
        if now > then {
            out.insert((repo.to_owned(), number.parse().unwrap()), now - then);
        }
    }
    out
}

#[test]
fn a_full_run_reads_every_review_as_the_truth_says() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let run = run_ok(&dir, None, &[]);
    let truth = truth_rows(&fake, &REPOS);
    assert!(truth.len() > 30, "the fixture has reviews: {}", truth.len());
    assert_eq!(emitted_rows(&run), truth);
    // One request per pull request, none for plain issues.
    let pulls: BTreeSet<(String, u64)> = REPOS
        .iter()
        .flat_map(|repo| {
            fake.truth(repo)
                .unwrap()
                .issues
                .into_iter()
                .filter(|i| i.is_pr)
                .map(|i| ((*repo).to_owned(), u64::from(i.number)))
        })
        .collect();
    let requests = review_requests(&Stats::default(), &fake.stats());
    assert_eq!(requests.keys().cloned().collect::<BTreeSet<_>>(), pulls);
    assert!(requests.values().all(|n| *n == 1), "{requests:?}");
    assert_eq!(pulls_emitted(&run), pulls);
    // Reviews are no top-level full-table stream: no ACTIVATE_VERSION, no bookmark.
    assert!(
        !run.messages
            .iter()
            .any(|m| m["type"] == "ACTIVATE_VERSION" && m["stream"] == "pull_request_reviews")
    );
    assert!(
        run.last_state()["bookmarks"]
            .get("pull_request_reviews")
            .is_none()
    );
    let schema = run
        .messages
        .iter()
        .find(|m| m["type"] == "SCHEMA" && m["stream"] == "pull_request_reviews")
        .unwrap();
    assert_eq!(schema["key_properties"], json!(["id"]));
}

#[test]
fn an_incremental_run_reads_the_reviews_of_the_pull_requests_it_emits_only() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let first = run_ok(&dir, None, &[]);
    fake.mutate(
        "octo/app",
        Mutation {
            update_pulls: 2,
            ..Mutation::NONE
        },
    )
    .unwrap();
    let before = fake.stats();
    let second = run_ok(&dir, Some(&first.last_state()), &[]);
    let after = fake.stats();

    let emitted = pulls_emitted(&second);
    let requests = review_requests(&before, &after);
    assert_eq!(
        requests.keys().cloned().collect::<BTreeSet<_>>(),
        emitted,
        "reviews read for exactly the pull requests emitted"
    );
    assert!(requests.values().all(|n| *n == 1), "{requests:?}");
    // The two touched pull requests, and at most the boundary ones besides.
    let all_pulls = truth_keys(&fake, &REPOS)["pull_requests"].len();
    assert!(
        emitted.len() >= 2 && emitted.len() <= 6,
        "{} of {all_pulls} pull requests read: {emitted:?}",
        emitted.len()
    );
    let touched: BTreeSet<(String, u64)> = fake
        .truth("octo/app")
        .unwrap()
        .issues
        .iter()
        .filter(|i| i.is_pr && i.updated_at > newest_before(&first))
        .map(|i| ("octo/app".to_owned(), u64::from(i.number)))
        .collect();
    assert_eq!(touched.len(), 2);
    assert!(touched.is_subset(&emitted));
    // Their reviews, every field as the truth says, new ones included.
    let want: BTreeMap<u64, Row> = truth_rows(&fake, &REPOS)
        .into_iter()
        .filter(|(_, r)| emitted.contains(&(r.0.clone(), r.1)))
        .collect();
    assert_eq!(emitted_rows(&second), want);
    // First run plus second run: every review there is.
    let mut all = emitted_rows(&first);
    all.extend(emitted_rows(&second));
    assert_eq!(all, truth_rows(&fake, &REPOS));
}

/// The newest `updated_at` of the pull requests a run emitted.
fn newest_before(run: &Run) -> String {
    run.records("pull_requests")
        .iter()
        .map(|r| r["updated_at"].as_str().unwrap().to_owned())
        .max()
        .unwrap()
}

#[test]
fn selected_alone_the_parent_drives_it_without_a_message_of_its_own() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let catalog = write(
        &dir,
        "reviews.json",
        &catalog_selecting(&dir, &["pull_request_reviews"]),
    );
    let run = run_ok(&dir, None, &["--catalog", &catalog]);
    let kinds: BTreeSet<(String, String)> = run
        .messages
        .iter()
        .filter(|m| m["type"] == "SCHEMA" || m["type"] == "RECORD")
        .map(|m| {
            (
                m["type"].as_str().unwrap().to_owned(),
                m["stream"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            ("RECORD".to_owned(), "pull_request_reviews".to_owned()),
            ("SCHEMA".to_owned(), "pull_request_reviews".to_owned()),
        ])
    );
    assert_eq!(emitted_rows(&run), truth_rows(&fake, &REPOS));
    // Only pull requests and their reviews were asked for.
    let stats = fake.stats();
    for path in stats.by_path.keys() {
        assert!(
            path.ends_with("/pulls") || path.ends_with("/reviews"),
            "{path}"
        );
    }
    // A bookmark written while pull_requests was not selected does not cover selecting it.
    let both = write(
        &dir,
        "both.json",
        &catalog_selecting(&dir, &["pull_requests", "pull_request_reviews"]),
    );
    let next = run_ok(&dir, Some(&run.last_state()), &["--catalog", &both]);
    assert_eq!(
        next.records("pull_requests").len(),
        truth_keys(&fake, &REPOS)["pull_requests"].len()
    );
}

/// For every STATE: each pull request its `pull_requests` bookmarks cover (emitted before it, up
/// to the bookmark's `updated_at`) has every one of its reviews emitted before that STATE.
fn assert_states_follow_reviews(run: &Run, fake: &RunningFake, repos: &[&str]) {
    let mut reviews_of: BTreeMap<(String, u64), BTreeSet<u64>> = BTreeMap::new();
    for (id, row) in truth_rows(fake, repos) {
        reviews_of.entry((row.0, row.1)).or_default().insert(id);
    }
    let mut pulls: Vec<(String, u64, String)> = Vec::new();
    let mut reviews: BTreeSet<u64> = BTreeSet::new();
    let mut covered = 0;
    for m in &run.messages {
        match (m["type"].as_str().unwrap(), m["stream"].as_str()) {
            ("RECORD", Some("pull_requests")) => {
                let r = m["record"].as_object().unwrap();
                let (repo, number) = pull_of(r);
                pulls.push((repo, number, r["updated_at"].as_str().unwrap().to_owned()));
            }
            ("RECORD", Some("pull_request_reviews")) => {
                reviews.insert(m["record"]["id"].as_u64().unwrap());
            }
            ("STATE", _) => {
                let Some(parts) = m["value"]["bookmarks"]["pull_requests"]["partitions"].as_array()
                else {
                    continue;
                };
                for p in parts {
                    let repo = p["context"]["repository"].as_str().unwrap();
                    let Some(mark) = p["replication_key_value"].as_str() else {
                        continue;
                    };
                    for (r, number, updated) in &pulls {
                        if r != repo || updated.as_str() > mark {
                            continue;
                        }
                        let want = reviews_of
                            .get(&(r.clone(), *number))
                            .cloned()
                            .unwrap_or_default();
                        assert!(
                            want.is_subset(&reviews),
                            "a STATE covers {r}#{number} before its reviews {want:?}"
                        );
                        covered += 1;
                    }
                }
            }
            _ => {}
        }
    }
    assert!(covered > 0, "some STATE covered pull requests");
}

#[test]
fn a_state_covering_pull_requests_comes_after_their_reviews() {
    // Over a hundred pull requests in octo/app: their list takes two pages.
    let fake = start(
        FakeGithub::builder()
            .seed(11)
            .token(TOKEN)
            .repo("octo/app", RepoSize::new(300, 420))
            .repo("octo/lib", RepoSize::new(60, 30)),
    );
    let dir = setup(&fake, json!({"max_concurrency": 2}));
    let pulls = fake.truth("octo/app").unwrap().counts.pulls;
    assert!(pulls > 100, "{pulls} pull requests");
    let first = run_ok(&dir, None, &[]);
    assert_eq!(emitted_rows(&first), truth_rows(&fake, &REPOS));
    assert_states_follow_reviews(&first, &fake, &REPOS);
    // Reviews of the first page of pull requests come before the second page's pull requests.
    let position = |stream: &str, pred: &dyn Fn(&Map<String, Value>) -> bool| {
        first
            .messages
            .iter()
            .position(|m| {
                m["type"] == "RECORD"
                    && m["stream"] == stream
                    && pred(m["record"].as_object().unwrap())
            })
            .unwrap()
    };
    let app_pulls: Vec<u64> = first
        .records("pull_requests")
        .iter()
        .filter(|r| r["_sdc_repository"] == "octo/app")
        .map(|r| r["number"].as_u64().unwrap())
        .collect();
    let second_page = position("pull_requests", &|r| {
        r["_sdc_repository"] == "octo/app" && r["number"].as_u64() == Some(app_pulls[100])
    });
    let first_page: BTreeSet<u64> = app_pulls[..100].iter().copied().collect();
    let last_review_of_first_page = first
        .messages
        .iter()
        .rposition(|m| {
            m["type"] == "RECORD"
                && m["stream"] == "pull_request_reviews"
                && m["record"]["_sdc_repository"] == "octo/app"
                && m["record"]["_sdc_pull_number"]
                    .as_u64()
                    .is_some_and(|n| first_page.contains(&n))
        })
        .unwrap();
    assert!(last_review_of_first_page < second_page);

    fake.mutate(
        "octo/app",
        Mutation {
            update_pulls: 3,
            new_issues: 4,
            ..Mutation::NONE
        },
    )
    .unwrap();
    let second = run_ok(&dir, Some(&first.last_state()), &[]);
    assert!(!second.records("pull_requests").is_empty());
    assert_states_follow_reviews(&second, &fake, &REPOS);
}

#[test]
fn a_child_selected_later_gets_its_history() {
    let fake = start(two_repos());
    let dir = setup(&fake, json!({}));
    let pulls = write(
        &dir,
        "pulls.json",
        &catalog_selecting(&dir, &["pull_requests"]),
    );
    let both = write(
        &dir,
        "both.json",
        &catalog_selecting(&dir, &["pull_requests", "pull_request_reviews"]),
    );
    let first = run_ok(&dir, None, &["--catalog", &pulls]);
    let quiet = run_ok(&dir, Some(&first.last_state()), &["--catalog", &pulls]);
    let second = run_ok(&dir, Some(&quiet.last_state()), &["--catalog", &both]);
    assert!(
        second.stderr.contains("pull_request_reviews were not read"),
        "says why the parent is read again: {}",
        second.stderr
    );
    assert_eq!(emitted_rows(&second), truth_rows(&fake, &REPOS));
    // Selected from now on: a quiet run reads no review again.
    let third = run_ok(&dir, Some(&second.last_state()), &["--catalog", &both]);
    assert!(
        third.records("pull_request_reviews").len() <= 2 * 3,
        "at most the reviews of the boundary pull requests"
    );
}
