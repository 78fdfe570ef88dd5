//! `GET /repos/{o}/{r}/compare/{base}...{head}`: statuses, force-pushed bases, merged branches
//! of old commits, pages and 404s.

use axum::http::StatusCode;
use fake_github::Mutation;
use serde_json::Value;

use crate::support::{get, request, walk, world};

fn shas(commits: &Value) -> Vec<String> {
    commits
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap().to_owned())
        .collect()
}

/// The truth's shas (newest first) from `from` to `to`, oldest first: compare's order.
fn oldest_first(t: &fake_github::Truth, newest: usize, count: usize) -> Vec<String> {
    t.commits[newest..newest + count]
        .iter()
        .rev()
        .map(|c| c.sha.clone())
        .collect()
}

async fn compare(app: &axum::Router, repo: &str, base: &str, head: &str) -> Value {
    let r = get(app, &format!("/repos/{repo}/compare/{base}...{head}")).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

#[tokio::test]
async fn identical_ahead_and_behind() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let head = &t.commits[0].sha;

    let same = compare(&app, "octo/app", "HEAD", "main").await;
    assert_eq!(same["status"], "identical");
    assert_eq!(
        (same["ahead_by"].as_u64(), same["behind_by"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(same["total_commits"], 0);
    assert_eq!(same["commits"], serde_json::json!([]));
    assert_eq!(same["files"], serde_json::json!([]));
    assert_eq!(same["base_commit"]["sha"], head.as_str());
    assert_eq!(same["merge_base_commit"]["sha"], head.as_str());

    let base = &t.commits[10].sha;
    let ahead = compare(&app, "octo/app", &base[..7], "main").await;
    assert_eq!(ahead["status"], "ahead");
    assert_eq!(ahead["ahead_by"], 10);
    assert_eq!(ahead["behind_by"], 0);
    assert_eq!(ahead["total_commits"], 10);
    assert_eq!(ahead["merge_base_commit"]["sha"], base.as_str());
    assert_eq!(shas(&ahead["commits"]), oldest_first(&t, 0, 10));
    // The commit objects are the ones /commits serves.
    let listed = get(&app, "/repos/octo/app/commits?per_page=10")
        .await
        .items();
    assert_eq!(ahead["commits"][9], listed[0]);
    assert_eq!(ahead["commits"][0], listed[9]);
    let owner_base = format!("{}...{}", &base[..7], "main");
    assert!(
        ahead["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/repos/octo/app/compare/{owner_base}"))
    );
    assert_eq!(
        ahead["permalink_url"],
        format!("https://github.com/octo/app/compare/octo:{base}...octo:{head}")
    );
    assert!(ahead["diff_url"].as_str().unwrap().ends_with(".diff"));

    let behind = compare(&app, "octo/app", head, &t.commits[5].sha).await;
    assert_eq!(behind["status"], "behind");
    assert_eq!(
        (behind["ahead_by"].as_u64(), behind["behind_by"].as_u64()),
        (Some(0), Some(5))
    );
    assert_eq!(behind["commits"], serde_json::json!([]));
    assert_eq!(
        behind["merge_base_commit"]["sha"],
        t.commits[5].sha.as_str()
    );
    assert_eq!(behind["base_commit"]["sha"], head.as_str());
}

#[tokio::test]
async fn a_force_pushed_base_has_diverged() {
    let (world, app) = world();
    let before = world.truth("octo/app").unwrap();
    let old_head = before.commits[0].sha.clone();
    world
        .mutate(
            "octo/app",
            Mutation {
                force_push: 3,
                ..Mutation::NONE
            },
        )
        .unwrap();
    let after = world.truth("octo/app").unwrap();
    let c = compare(&app, "octo/app", &old_head, "main").await;
    assert_eq!(c["status"], "diverged");
    assert_eq!(
        (c["ahead_by"].as_u64(), c["behind_by"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        c["merge_base_commit"]["sha"],
        before.commits[3].sha.as_str()
    );
    assert_eq!(c["base_commit"]["sha"], old_head.as_str());
    assert_eq!(shas(&c["commits"]), oldest_first(&after, 0, 3));

    // Force-push again over the new commits: both old heads still compare.
    let second_head = after.commits[0].sha.clone();
    world
        .mutate(
            "octo/app",
            Mutation {
                force_push: 2,
                ..Mutation::NONE
            },
        )
        .unwrap();
    let last = world.truth("octo/app").unwrap();
    let c = compare(&app, "octo/app", &second_head, "HEAD").await;
    assert_eq!(c["status"], "diverged");
    assert_eq!(
        (c["ahead_by"].as_u64(), c["behind_by"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(c["merge_base_commit"]["sha"], after.commits[2].sha.as_str());
    let c = compare(&app, "octo/app", &old_head[..10], "main").await;
    assert_eq!(
        (c["ahead_by"].as_u64(), c["behind_by"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(shas(&c["commits"]), oldest_first(&last, 0, 3));
    // The other way round: the branch is behind the dropped head's history… and ahead of it.
    let c = compare(&app, "octo/app", "main", &old_head).await;
    assert_eq!(c["status"], "diverged");
    assert_eq!(shas(&c["commits"]), oldest_first(&before, 0, 3));
    let c = compare(&app, "octo/app", &before.commits[3].sha, &old_head).await;
    assert_eq!(c["status"], "ahead");
    assert_eq!(c["ahead_by"], 3);
}

#[tokio::test]
async fn a_merged_branch_shows_in_compare_but_not_in_commits_since() {
    let (world, app) = world();
    let before = world.truth("octo/app").unwrap();
    let newest = before
        .commits
        .iter()
        .map(|c| &c.committer_date)
        .max()
        .unwrap()
        .clone();
    let m = Mutation {
        merged_commits: 4,
        merged_age_s: 86_400,
        merge_commit: true,
        new_commits: 1,
        ..Mutation::NONE
    };
    world.mutate("octo/app", m).unwrap();
    let after = world.truth("octo/app").unwrap();
    let c = compare(&app, "octo/app", &before.commits[0].sha, "main").await;
    assert_eq!(c["status"], "ahead");
    assert_eq!(c["ahead_by"], 6);
    assert_eq!(shas(&c["commits"]), oldest_first(&after, 0, 6));
    let old: Vec<&Value> = c["commits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["commit"]["committer"]["date"].as_str().unwrap() < newest.as_str())
        .collect();
    assert_eq!(old.len(), 4, "the merged commits are a day old");

    let since = newest.replace(':', "%3A");
    let (fresh, _) = walk(&app, &format!("/repos/octo/app/commits?since={since}"), &[]).await;
    let fresh: Vec<&str> = fresh.iter().map(|x| x["sha"].as_str().unwrap()).collect();
    for merged in &old {
        assert!(
            !fresh.contains(&merged["sha"].as_str().unwrap()),
            "since misses merged commits"
        );
    }
    assert_eq!(
        fresh.len(),
        3,
        "the new commit, the merge commit and the old head (inclusive)"
    );
}

#[tokio::test]
async fn pages_of_a_long_comparison() {
    let (world, app) = world();
    let t = world.truth("octo/app").unwrap();
    let root = &t.commits[259].sha;
    let all = oldest_first(&t, 0, 259);

    let unpaged = get(&app, &format!("/repos/octo/app/compare/{root}...main")).await;
    assert_eq!(unpaged.header("link"), None);
    let body = unpaged.json();
    assert_eq!(body["total_commits"], 259);
    assert_eq!(shas(&body["commits"]), all[..250]);
    assert!(body["files"].is_array());

    let id = get(&app, "/repos/octo/app").await.json()["id"]
        .as_u64()
        .unwrap();
    let first = get(
        &app,
        &format!("/repos/octo/app/compare/{root}...main?per_page=100"),
    )
    .await;
    let base = format!("http://127.0.0.1/repositories/{id}/compare/{root}...main");
    assert_eq!(
        first.header("link").unwrap(),
        format!(
            "<{base}?per_page=100&page=2>; rel=\"next\", <{base}?per_page=100&page=3>; rel=\"last\""
        )
    );
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "/repos/octo/app/compare/{root}...main?per_page=100"
    ));
    let mut pages = 0;
    while let Some(uri) = next {
        let r = get(&app, &uri).await;
        let body = r.json();
        assert_eq!(
            body["files"].is_array(),
            pages == 0,
            "files on the first page only"
        );
        assert_eq!(body["total_commits"], 259);
        seen.extend(shas(&body["commits"]));
        next = r.link("next");
        pages += 1;
    }
    assert_eq!((seen, pages), (all.clone(), 3));
    let last = get(
        &app,
        &format!("/repositories/{id}/compare/{root}...main?page=9&per_page=100"),
    )
    .await;
    assert_eq!(last.status, StatusCode::OK);
    assert_eq!(last.json()["commits"], serde_json::json!([]));
    let small = get(
        &app,
        &format!("/repos/octo/app/compare/{root}...main?page=2"),
    )
    .await;
    assert_eq!(
        shas(&small.json()["commits"]),
        all[30..60],
        "per_page defaults to 30"
    );

    let etag = unpaged.header("etag").unwrap().to_owned();
    let again = request(
        &app,
        &format!("/repos/octo/app/compare/{root}...main"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn unknown_commits_are_404() {
    let (world, app) = world();
    let head = world.truth("octo/app").unwrap().commits[0].sha.clone();
    for uri in [
        format!("/repos/octo/app/compare/{}...main", "0".repeat(40)),
        format!("/repos/octo/app/compare/main...{}", "f".repeat(12)),
        format!("/repos/octo/app/compare/{}...main", &head[..6]),
        format!("/repos/octo/app/compare/{head}..main"),
        "/repos/octo/app/compare/nope...main".to_owned(),
        "/repos/octo/empty/compare/main...HEAD".to_owned(),
        "/repos/octo/nope/compare/main...HEAD".to_owned(),
    ] {
        let r = get(&app, &uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.json()["message"], "Not Found", "{uri}");
    }
}
