//! `since`/`until`/`sha` filters.

use crate::support::{get, walk, world};

#[tokio::test]
async fn commits_since_and_until_filter_on_committer_date() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let since = &t.commits[100].committer_date;
    let until = &t.commits[20].committer_date;
    let (items, _) = walk(
        &app,
        &format!("/repos/octo/app/commits?since={since}&until={until}&per_page=13"),
        &[],
    )
    .await;
    assert_eq!(items.len(), 81, "both bounds inclusive");
    assert_eq!(items[0]["sha"], t.commits[20].sha.as_str());
    assert_eq!(items[80]["sha"], t.commits[100].sha.as_str());
    let encoded = since.replace(':', "%3A");
    let (enc, _) = walk(
        &app,
        &format!("/repos/octo/app/commits?since={encoded}&per_page=100"),
        &[],
    )
    .await;
    assert_eq!(enc.len(), 101);
}

#[tokio::test]
async fn commits_sha_is_a_branch_or_a_commit() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let repo = get(&app, "/repos/octo/app").await.json();
    assert_eq!(repo["default_branch"], "main");
    let main = get(&app, "/repos/octo/app/commits?sha=main").await.items();
    assert_eq!(main[0]["sha"], t.commits[0].sha.as_str());
    let from = &t.commits[5].sha;
    let (older, _) = walk(
        &app,
        &format!("/repos/octo/app/commits?sha={from}&per_page=100"),
        &[],
    )
    .await;
    assert_eq!(older.len(), 255);
    assert_eq!(older[0]["sha"], from.as_str());
    assert_eq!(older[0]["parents"][0]["sha"], t.commits[6].sha.as_str());
    let missing = get(&app, "/repos/octo/app/commits?sha=nope-branch").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn issues_and_comments_since_filter_on_updated_at() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let mut updated: Vec<&str> = t.issues.iter().map(|i| i.updated_at.as_str()).collect();
    updated.sort_unstable();
    let since = updated[updated.len() / 2];
    let expected = t
        .issues
        .iter()
        .filter(|i| i.updated_at.as_str() >= since)
        .count();
    let (items, _) = walk(
        &app,
        &format!("/repos/octo/app/issues?state=all&since={since}&per_page=9"),
        &[],
    )
    .await;
    assert_eq!(items.len(), expected);
    assert!(
        items
            .iter()
            .all(|i| i["updated_at"].as_str().unwrap() >= since)
    );
    let since = &t.comments[t.comments.len() / 2].updated_at;
    let expected = t.comments.iter().filter(|c| &c.updated_at >= since).count();
    let (items, _) = walk(
        &app,
        &format!("/repos/octo/app/issues/comments?since={since}&sort=updated&direction=asc"),
        &[],
    )
    .await;
    assert_eq!(items.len(), expected);
    let u: Vec<&str> = items
        .iter()
        .map(|c| c["updated_at"].as_str().unwrap())
        .collect();
    assert!(u.windows(2).all(|w| w[0] <= w[1]));
    let bad = get(&app, "/repos/octo/app/issues?since=yesterday").await;
    assert_eq!(bad.status, 422);
}

#[tokio::test]
async fn issues_sort_by_updated_with_cursor_pages() {
    let (_, app) = world();
    let (items, _) = walk(
        &app,
        "/repos/octo/app/issues?state=all&sort=updated&direction=asc&per_page=8",
        &[],
    )
    .await;
    let u: Vec<&str> = items
        .iter()
        .map(|c| c["updated_at"].as_str().unwrap())
        .collect();
    assert!(u.windows(2).all(|w| w[0] <= w[1]));
    let (closed, _) = walk(
        &app,
        "/repos/octo/app/issues?state=closed&sort=comments",
        &[],
    )
    .await;
    let c: Vec<u64> = closed
        .iter()
        .map(|c| c["comments"].as_u64().unwrap())
        .collect();
    assert!(c.windows(2).all(|w| w[0] >= w[1]));
    assert!(
        closed
            .iter()
            .all(|i| i["state"] == "closed" && i["closed_at"].is_string())
    );
}
