//! A pagination walk of every list endpoint, checked against the ground truth.

use std::collections::HashSet;

use fake_github::IssueCursor;

use crate::support::{builder, get, walk, world, world_of};

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

// With no change under the walk, offset and keyset cursors give the same pages.
#[tokio::test]
async fn without_changes_both_cursors_walk_the_same_items() {
    let uri = "/repos/octo/app/issues?state=all&sort=updated&direction=asc&per_page=7";
    let (_, keyset) = world();
    let (_, offset) = world_of(builder().issue_cursor(IssueCursor::Offset));
    let (a, pages_a) = walk(&keyset, uri, &[]).await;
    let (b, pages_b) = walk(&offset, uri, &[]).await;
    assert_eq!((a, pages_a), (b, pages_b));
    let first = get(&offset, uri).await;
    let next = first.link("next").unwrap();
    let plain = get(&keyset, uri).await.link("next").unwrap();
    assert_ne!(next, plain, "the cursors differ");
    assert_eq!(get(&offset, &format!("{uri}&after=nope")).await.status, 422);
}
