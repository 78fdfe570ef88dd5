//! Pull request reviews: `/pulls/{number}/reviews` serves the truth's reviews of each pull
//! request, oldest first, paged with `Link`; 404 for a number that is not a pull request's;
//! mutations that touch pull requests may add one, dated with the touch.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use fake_github::{Mutation, Truth, TruthReview};
use serde_json::Value;

use crate::support::{get, links, walk, world};

/// The review as the truth would name it, read from a served item.
fn as_truth(item: &Value) -> TruthReview {
    let url = item["pull_request_url"].as_str().unwrap();
    TruthReview {
        id: item["id"].as_u64().unwrap(),
        pull_number: url.rsplit('/').next().unwrap().parse().unwrap(),
        user_login: item["user"]["login"].as_str().unwrap().to_owned(),
        state: item["state"].as_str().unwrap().to_owned(),
        submitted_at: item
            .get("submitted_at")
            .map(|v| v.as_str().unwrap().to_owned()),
    }
}

/// Every review served, pull request by pull request (`per_page` small, to page).
async fn served(app: &axum::Router, repo: &str, t: &Truth, per_page: usize) -> Vec<TruthReview> {
    let mut out = Vec::new();
    for pr in t.issues.iter().filter(|i| i.is_pr) {
        let uri = format!(
            "/repos/{repo}/pulls/{}/reviews?per_page={per_page}",
            pr.number
        );
        let (items, pages) = walk(app, &uri, &[]).await;
        assert_eq!(pages, items.len().div_ceil(per_page).max(1), "{uri}");
        let reviews: Vec<TruthReview> = items.iter().map(as_truth).collect();
        assert!(
            reviews.windows(2).all(|w| w[0].id < w[1].id),
            "{uri}: oldest first"
        );
        let times: Vec<&String> = reviews
            .iter()
            .filter_map(|r| r.submitted_at.as_ref())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{uri}: {times:?}");
        for r in &reviews {
            assert_eq!(r.pull_number, pr.number);
            if let Some(at) = &r.submitted_at {
                assert!(
                    *at >= pr.created_at && *at <= pr.updated_at,
                    "{uri}: review {} at {at}, pull request {}..{}",
                    r.id,
                    pr.created_at,
                    pr.updated_at
                );
            }
        }
        out.extend(reviews);
    }
    out
}

#[tokio::test]
async fn reviews_match_the_truth_oldest_first_within_their_pull_request() {
    let (world, app) = world();
    for repo in ["octo/app", "mona/solo", "octo/empty"] {
        let t = world.truth(repo).unwrap();
        assert_eq!(served(&app, repo, &t, 2).await, t.reviews, "{repo}");
        assert_eq!(t.reviews.len(), t.counts.reviews);
    }
    let t = world.truth("octo/app").unwrap();
    let pulls = t.issues.iter().filter(|i| i.is_pr).count();
    assert!(
        t.reviews.len() > pulls,
        "about 1.5 per pull request: {}",
        t.reviews.len()
    );
    let per_pull = |n: u32| t.reviews.iter().filter(|r| r.pull_number == n).count();
    assert!(
        t.issues
            .iter()
            .filter(|i| i.is_pr)
            .all(|i| per_pull(i.number) <= 3)
    );
    assert!(t.issues.iter().any(|i| i.is_pr && per_pull(i.number) == 0));
    let states: BTreeSet<&str> = t.reviews.iter().map(|r| r.state.as_str()).collect();
    for s in ["APPROVED", "CHANGES_REQUESTED", "COMMENTED"] {
        assert!(states.contains(s), "{states:?}");
    }
    assert!(states.iter().all(|s| {
        [
            "APPROVED",
            "CHANGES_REQUESTED",
            "COMMENTED",
            "DISMISSED",
            "PENDING",
        ]
        .contains(s)
    }));
    // Only a pending review has no submission time.
    assert!(
        t.reviews
            .iter()
            .all(|r| r.submitted_at.is_none() == (r.state == "PENDING"))
    );
}

#[tokio::test]
async fn review_items_have_githubs_shape_and_links() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let busy = t
        .issues
        .iter()
        .filter(|i| i.is_pr)
        .map(|i| i.number)
        .find(|n| t.reviews.iter().filter(|r| r.pull_number == *n).count() >= 2)
        .expect("a pull request with two reviews");
    let uri = format!("/repos/octo/app/pulls/{busy}/reviews");
    let whole = get(&app, &uri).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert!(whole.header("link").is_none(), "one page holds everything");
    let item = &whole.items()[0];
    for key in [
        "id",
        "node_id",
        "user",
        "body",
        "state",
        "html_url",
        "pull_request_url",
        "author_association",
        "_links",
        "commit_id",
        "submitted_at",
    ] {
        assert!(item.get(key).is_some(), "{key} missing: {item}");
    }
    let id = item["id"].as_u64().unwrap();
    assert!(
        item["html_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/octo/app/pull/{busy}#pullrequestreview-{id}"))
    );
    assert_eq!(
        item["_links"]["pull_request"]["href"],
        item["pull_request_url"]
    );
    assert_eq!(item["commit_id"].as_str().unwrap().len(), 40);

    // Page-number pages, links to /repositories/{id}/…, which serves the same items.
    let first = get(&app, &format!("{uri}?per_page=1")).await;
    let l = links(first.header("link").unwrap());
    let rels: Vec<&str> = l.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(rels, ["next", "last"]);
    let repo_id = get(&app, "/repos/octo/app").await.json()["id"].clone();
    assert!(
        l[0].1.contains(&format!(
            "/repositories/{repo_id}/pulls/{busy}/reviews?per_page=1&page=2"
        )),
        "{}",
        l[0].1
    );
    let by_id = get(
        &app,
        &format!("/repositories/{repo_id}/pulls/{busy}/reviews"),
    )
    .await;
    assert_eq!(by_id.body, whole.body);
    let past = get(&app, &format!("{uri}?page=9")).await;
    assert_eq!(past.body, b"[]");
}

#[tokio::test]
async fn a_number_that_is_not_a_pull_request_is_404() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let plain = t.issues.iter().find(|i| !i.is_pr).unwrap().number;
    let beyond = t.issues.len() + 1;
    for n in [
        plain.to_string(),
        beyond.to_string(),
        "0".into(),
        "x".into(),
    ] {
        let r = get(&app, &format!("/repos/octo/app/pulls/{n}/reviews")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{n}");
        assert_eq!(r.json()["message"], "Not Found");
    }
    let missing = get(&app, "/repos/octo/nope/pulls/1/reviews").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn touched_pull_requests_may_get_a_review_dated_with_the_touch() {
    let (world, app) = world();
    let before = world.truth("octo/app").unwrap();
    world
        .mutate(
            "octo/app",
            Mutation {
                update_pulls: 8,
                ..Mutation::NONE
            },
        )
        .unwrap();
    let after = world.truth("octo/app").unwrap();
    let old: BTreeSet<u64> = before.reviews.iter().map(|r| r.id).collect();
    let added: Vec<&TruthReview> = after
        .reviews
        .iter()
        .filter(|r| !old.contains(&r.id))
        .collect();
    assert!(!added.is_empty(), "8 touched pull requests, no review");
    assert!(added.len() <= 8);
    let newest_old = old.iter().max().unwrap();
    for r in &added {
        assert!(r.id > *newest_old, "ids grow with time");
        let pr = &after.issues[r.pull_number as usize - 1];
        assert!(pr.is_pr);
        assert_eq!(r.submitted_at.as_ref(), Some(&pr.updated_at), "{r:?}");
        assert!(pr.updated_at > before.issues[r.pull_number as usize - 1].updated_at);
    }
    // Older reviews are untouched, and the endpoint serves the new ones.
    for r in &before.reviews {
        assert!(after.reviews.contains(r));
    }
    assert_eq!(served(&app, "octo/app", &after, 100).await, after.reviews);
    // The same mutation of the same world adds the same reviews.
    let (again, _) = crate::support::world();
    again
        .mutate(
            "octo/app",
            Mutation {
                update_pulls: 8,
                ..Mutation::NONE
            },
        )
        .unwrap();
    assert_eq!(again.truth("octo/app"), Some(after), "deterministic");
}

#[tokio::test]
async fn same_seed_same_review_bytes() {
    let (world, a) = world();
    let (_, b) = crate::support::world();
    let t = world.truth("octo/app").unwrap();
    for pr in t.issues.iter().filter(|i| i.is_pr) {
        let uri = format!("/repos/octo/app/pulls/{}/reviews", pr.number);
        let (x, y) = (get(&a, &uri).await, get(&b, &uri).await);
        assert_eq!(x.body, y.body, "{uri}");
        assert_eq!(x.header("etag"), y.header("etag"), "{uri}");
    }
}
