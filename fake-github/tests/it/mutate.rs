//! Mutations: new activity strictly newer than everything, deterministic, also over HTTP.

use axum::body::Body;
use axum::http::Request;
use fake_github::Mutation;

use crate::support::{get, send, walk, world};

#[tokio::test]
async fn new_activity_is_newer_than_everything_and_found_by_since() {
    let (world, app) = world();
    let before = world.truth("octo/app").unwrap();
    let newest = before
        .commits
        .iter()
        .map(|c| c.committer_date.clone())
        .chain(before.issues.iter().map(|i| i.updated_at.clone()))
        .chain(before.comments.iter().map(|c| c.updated_at.clone()))
        .max()
        .unwrap();
    let m = Mutation {
        new_commits: 5,
        update_issues: 4,
        new_issues: 3,
    };
    world.mutate("octo/app", m).unwrap();
    let after = world.truth("octo/app").unwrap();
    assert_eq!(after.counts.commits, before.counts.commits + 5);
    assert_eq!(
        after.counts.issues_and_pulls,
        before.counts.issues_and_pulls + 3
    );
    assert_eq!(after.counts.comments, before.counts.comments + 4);
    assert!(after.commits[..5].iter().all(|c| c.committer_date > newest));
    let changed: Vec<_> = after
        .issues
        .iter()
        .filter(|i| i.updated_at > newest)
        .collect();
    assert_eq!(changed.len(), 7);

    // An incremental client with the old bookmark sees exactly the new activity.
    let since = newest.replace(':', "%3A");
    let (commits, _) = walk(&app, &format!("/repos/octo/app/commits?since={since}"), &[]).await;
    assert_eq!(commits.len(), 5);
    let (issues, _) = walk(
        &app,
        &format!("/repos/octo/app/issues?state=all&since={since}"),
        &[],
    )
    .await;
    assert!(
        issues.len() >= 7,
        "since is inclusive; {} found",
        issues.len()
    );
    assert!(
        issues
            .iter()
            .filter(|i| i["updated_at"].as_str().unwrap() > newest.as_str())
            .count()
            == 7
    );
    let (comments, _) = walk(
        &app,
        &format!("/repos/octo/app/issues/comments?since={since}"),
        &[],
    )
    .await;
    let new = comments
        .iter()
        .filter(|c| c["updated_at"].as_str().unwrap() > newest.as_str())
        .count();
    assert_eq!(new, 4);
    let fresh = get(&app, "/repos/octo/app/commits?per_page=5")
        .await
        .items();
    assert_eq!(
        fresh[4]["parents"][0]["sha"],
        before.commits[0].sha.as_str(),
        "history is linear"
    );
}

#[tokio::test]
async fn mutations_are_deterministic() {
    let (a, app_a) = world();
    let (b, app_b) = world();
    for w in [&a, &b] {
        w.mutate(
            "octo/app",
            Mutation {
                new_commits: 3,
                update_issues: 5,
                new_issues: 2,
            },
        )
        .unwrap();
        w.mutate(
            "octo/app",
            Mutation {
                new_commits: 1,
                update_issues: 1,
                new_issues: 1,
            },
        )
        .unwrap();
    }
    assert_eq!(a.truth("octo/app"), b.truth("octo/app"));
    for uri in [
        "/repos/octo/app/issues?state=all&per_page=100",
        "/repos/octo/app/commits",
        "/repos/octo/app/pulls?state=all",
    ] {
        assert_eq!(
            get(&app_a, uri).await.body,
            get(&app_b, uri).await.body,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn control_routes_over_http() {
    let (world, app) = world();
    let req =
        Request::post("/_fake/mutate?repo=octo/small&new_commits=2&update_issues=1&new_issues=1")
            .body(Body::empty())
            .unwrap();
    let r = send(&app, req).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["counts"]["commits"], 14);
    let truth = get(&app, "/_fake/truth?repo=octo/small").await.json();
    assert_eq!(truth["counts"]["commits"], 14);
    assert_eq!(truth["commits"].as_array().unwrap().len(), 14);
    let parsed: fake_github::Truth = serde_json::from_value(truth).unwrap();
    assert_eq!(Some(parsed), world.truth("octo/small"));
    assert_eq!(get(&app, "/_fake/truth?repo=octo/none").await.status, 404);
    get(&app, "/repos/octo/small/commits").await;
    get(&app, "/repos/octo/nope/commits").await;
    let stats: fake_github::Stats =
        serde_json::from_slice(&get(&app, "/_fake/stats").await.body).unwrap();
    assert_eq!(stats.total, 2, "/_fake/* is not counted");
    assert_eq!(stats.by_path["/repos/octo/small/commits"][&200], 1);
    assert_eq!(stats.by_status[&404], 1);
    assert_eq!(stats, world.stats());
}
