//! A pagination walk of every list endpoint, checked against the ground truth.

use std::collections::HashSet;

use crate::support::{walk, world};

#[tokio::test]
async fn every_list_endpoint_walks_to_the_truth() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let c = t.counts;
    let cases = [
        ("/repos/octo/app/commits?per_page=7", c.commits, "sha"),
        (
            "/repos/octo/app/issues?state=all&per_page=7",
            c.issues_and_pulls,
            "id",
        ),
        ("/repos/octo/app/pulls?state=all&per_page=7", c.pulls, "id"),
        (
            "/repos/octo/app/issues/comments?per_page=7",
            c.comments,
            "id",
        ),
        ("/repos/octo/app/releases?per_page=1", c.releases, "id"),
        (
            "/repos/octo/app/stargazers?per_page=7",
            c.stargazers,
            "login",
        ),
        (
            "/repos/octo/app/contributors?per_page=7",
            c.contributors,
            "login",
        ),
        ("/orgs/octo/repos?per_page=1", 3, "full_name"),
    ];
    for (uri, expected, key) in cases {
        let (items, pages) = walk(&app, uri, &[]).await;
        assert_eq!(items.len(), expected, "{uri}");
        assert!(pages > 1, "{uri} must span several pages");
        let distinct: HashSet<String> = items.iter().map(|i| i[key].to_string()).collect();
        assert_eq!(distinct.len(), expected, "{uri}: duplicates");
    }
    let contributions: u64 = walk(&app, "/repos/octo/app/contributors?per_page=100", &[])
        .await
        .0
        .iter()
        .map(|c| c["contributions"].as_u64().unwrap())
        .sum();
    let linked = t
        .commits
        .iter()
        .filter(|c| c.author_login.is_some())
        .count() as u64;
    assert_eq!(contributions, linked);
}

#[tokio::test]
async fn per_issue_comments_walk() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let busy = t.issues.iter().max_by_key(|i| i.comments).unwrap();
    let uri = format!("/repos/octo/app/issues/{}/comments?per_page=1", busy.number);
    let (items, _) = walk(&app, &uri, &[]).await;
    assert_eq!(items.len() as u32, busy.comments);
}
