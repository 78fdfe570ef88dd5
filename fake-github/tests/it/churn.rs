//! Churn: the source changes under a sync, every K-th request, deterministically; with offset
//! cursors a page walk then skips items, with keyset cursors it does not.

use std::collections::HashSet;

use fake_github::{IssueCursor, RunningFake};

use crate::support::{builder, get, raw_get, walk, world, world_of};

fn spec(s: &str) -> fake_github::FaultSpec {
    s.parse().unwrap()
}

const REPOS: [&str; 4] = ["octo/app", "octo/small", "octo/empty", "mona/solo"];

#[tokio::test]
async fn churn_fires_every_k_requests_and_is_deterministic() {
    let faults = "churn:every=3:issues=2:pulls=1:comments=1:commits=1:old_commits=2";
    let (a, app_a) = world_of(builder().faults(spec(faults)));
    let (b, app_b) = world_of(builder().faults(spec(faults)));
    let (_, plain) = world();
    let before = a.truth("octo/app").unwrap();
    for app in [&app_a, &app_b] {
        for k in 0..10 {
            let uri = if k % 2 == 0 {
                "/repos/octo/app/issues"
            } else {
                "/repos/mona/solo"
            };
            assert_eq!(get(app, uri).await.status, 200);
            // Neither is numbered, so neither moves churn.
            get(app, "/rate_limit").await;
            get(app, "/_fake/stats").await;
        }
    }
    assert_eq!(a.stats().churns, 3, "requests 3, 6 and 9");
    assert_eq!(b.stats(), a.stats());
    for repo in REPOS {
        assert_eq!(a.truth(repo), b.truth(repo), "{repo}");
    }
    let after = a.truth("octo/app").unwrap();
    assert_eq!(
        after.counts.commits,
        before.counts.commits + 3 * (1 + 2 + 1)
    );
    assert_eq!(after.counts.comments, before.counts.comments + 3 * 3);
    assert_ne!(
        get(&app_a, "/repos/octo/app/commits").await.body,
        get(&plain, "/repos/octo/app/commits").await.body
    );
    let empty = a.truth("octo/empty").unwrap();
    assert_eq!(empty.counts.commits, 0, "an empty repository stays empty");
    assert_eq!(get(&app_a, "/repos/octo/empty/commits").await.status, 409);
    // Each churn merged two commits dated a day before the newest commit so far.
    let mut newest = String::new();
    let mut back_in_time = 0;
    for c in after.commits.iter().rev() {
        if c.committer_date < newest {
            back_in_time += 1;
        }
        newest = newest.max(c.committer_date.clone());
    }
    assert_eq!(back_in_time, 3 * 2);

    let stats: fake_github::Stats =
        serde_json::from_slice(&get(&app_a, "/_fake/stats").await.body).unwrap();
    assert_eq!(stats.churns, 4, "the request above was number 12");
}

#[tokio::test]
async fn another_request_sequence_churns_differently() {
    let faults = "churn:every=2:issues=3";
    let (a, app_a) = world_of(builder().faults(spec(faults)));
    let (b, app_b) = world_of(builder().faults(spec(faults)));
    for _ in 0..4 {
        get(&app_a, "/repos/octo/app").await;
    }
    for _ in 0..2 {
        get(&app_b, "/repos/octo/app").await;
    }
    get(&app_b, "/rate_limit").await;
    assert_ne!(a.truth("octo/app"), b.truth("octo/app"));
    for _ in 0..2 {
        get(&app_b, "/repos/octo/app").await;
    }
    assert_eq!(a.truth("octo/app"), b.truth("octo/app"));
}

/// Walks `/issues?sort=updated&direction=asc` with churn touching issues every other request;
/// returns the ids seen, how many times the page walk saw any, and the final ids.
async fn walk_under_churn(cursor: IssueCursor) -> (HashSet<u64>, usize, HashSet<u64>) {
    let b = builder()
        .issue_cursor(cursor)
        .faults(spec("churn:every=2:issues=3"));
    let (world, app) = world_of(b);
    let uri = "/repos/octo/app/issues?state=all&sort=updated&direction=asc&per_page=10";
    let (items, pages) = walk(&app, uri, &[]).await;
    assert!(pages > 5);
    assert!(world.stats().churns >= 3);
    let seen: HashSet<u64> = items.iter().map(|i| i["id"].as_u64().unwrap()).collect();
    let all = world
        .truth("octo/app")
        .unwrap()
        .issues
        .iter()
        .map(|i| i.id)
        .collect();
    (seen, items.len(), all)
}

#[tokio::test]
async fn offset_cursors_skip_items_under_churn_and_keyset_cursors_do_not() {
    let (seen, _, all) = walk_under_churn(IssueCursor::Offset).await;
    let skipped: Vec<&u64> = all.difference(&seen).collect();
    assert!(!skipped.is_empty(), "items shifted under the offset cursor");

    let (seen, walked, all) = walk_under_churn(IssueCursor::Keyset).await;
    assert_eq!(seen, all, "a keyset cursor never skips");
    assert!(walked > all.len(), "touched issues come again at the end");
}

#[test]
fn churn_while_serving_concurrent_requests_does_not_deadlock() {
    let fake = RunningFake::start_blocking(
        builder().faults(spec("churn:every=1:issues=1:commits=1:comments=1")),
    )
    .unwrap();
    let addr = fake.addr();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for k in 0..15 {
                    let path = match (t + k) % 3 {
                        0 => "/repos/octo/app/commits?per_page=100",
                        1 => "/repos/octo/app/issues?state=all&sort=updated",
                        _ => "/repos/mona/solo/issues/comments",
                    };
                    let (status, _, _, complete) = raw_get(addr, path, "");
                    assert_eq!((status, complete), (200, true), "{path}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(fake.stats().churns, 60);
    assert_eq!(fake.truth("octo/app").unwrap().counts.commits, 260 + 60);
}

#[tokio::test]
async fn a_calm_world_changes_nothing_until_churn_resumes() {
    let (w, app) = world_of(builder().faults(spec("churn:every=1:issues=2")));
    w.set_calm(true);
    let before = w.truth("octo/app").unwrap();
    for _ in 0..3 {
        assert_eq!(get(&app, "/repos/octo/app/issues").await.status, 200);
    }
    assert_eq!(w.truth("octo/app").unwrap(), before, "nothing changed");
    assert_eq!(w.stats().churns, 0);
    w.set_calm(false);
    get(&app, "/repos/octo/app/issues").await;
    assert_eq!(w.stats().churns, 1);
    assert_ne!(w.truth("octo/app").unwrap(), before);
}
