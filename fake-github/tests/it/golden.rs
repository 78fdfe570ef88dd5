//! Golden tests written from GitHub's REST docs, for the defaults clients most often get wrong.

use axum::http::StatusCode;

use crate::support::{get, links, request, walk, world};

fn times(items: &[serde_json::Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

// "state: Indicates the state of the issues to return. Default: open"
#[tokio::test]
async fn issues_default_to_open_and_newest_created_first() {
    let (world, app) = world();
    let (items, _) = walk(&app, "/repos/octo/app/issues?per_page=100", &[]).await;
    let truth = world.truth("octo/app").unwrap();
    let open = truth.issues.iter().filter(|i| i.state == "open").count();
    assert_eq!(items.len(), open);
    assert!(
        open < truth.issues.len(),
        "the fixture must have closed issues"
    );
    assert!(items.iter().all(|i| i["state"] == "open"));
    let created = times(&items, "created_at");
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "sort=created, direction=desc by default"
    );
}

// Pull requests are issues: in /issues they carry `pull_request` and the issue's id.
#[tokio::test]
async fn pull_requests_appear_in_issues_with_the_issue_id() {
    let (world, app) = world();
    let (issues, _) = walk(&app, "/repos/octo/app/issues?state=all&per_page=100", &[]).await;
    let (pulls, _) = walk(&app, "/repos/octo/app/pulls?state=all&per_page=100", &[]).await;
    let truth = world.truth("octo/app").unwrap();
    for p in &pulls {
        let n = p["number"].as_u64().unwrap();
        let as_issue = issues
            .iter()
            .find(|i| i["number"].as_u64() == Some(n))
            .unwrap();
        assert!(
            as_issue["pull_request"]["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/pulls/{n}"))
        );
        let t = truth
            .issues
            .iter()
            .find(|i| u64::from(i.number) == n)
            .unwrap();
        assert_eq!(as_issue["id"].as_u64(), Some(t.id));
        assert_eq!(p["id"].as_u64(), t.pr_id);
        assert_ne!(p["id"], as_issue["id"]);
    }
    assert_eq!(pulls.len(), truth.counts.pulls);
    let plain = issues
        .iter()
        .filter(|i| i.get("pull_request").is_none())
        .count();
    assert_eq!(plain, truth.counts.issues);
    assert!(issues[0]["labels"].is_array());
}

// "direction: Default: desc when sort is created or sort is not specified, otherwise asc."
#[tokio::test]
async fn pulls_direction_depends_on_sort() {
    let (_, app) = world();
    let created = walk(&app, "/repos/octo/app/pulls?state=all&per_page=100", &[])
        .await
        .0;
    let c = times(&created, "created_at");
    assert!(c.windows(2).all(|w| w[0] >= w[1]), "no sort: created desc");
    let updated = walk(
        &app,
        "/repos/octo/app/pulls?state=all&sort=updated&per_page=100",
        &[],
    )
    .await
    .0;
    let u = times(&updated, "updated_at");
    assert!(
        u.windows(2).all(|w| w[0] <= w[1]),
        "sort=updated: asc by default"
    );
    let desc = walk(
        &app,
        "/repos/octo/app/pulls?state=all&sort=updated&direction=desc",
        &[],
    )
    .await
    .0;
    assert!(times(&desc, "updated_at").windows(2).all(|w| w[0] >= w[1]));
    let open = walk(&app, "/repos/octo/app/pulls", &[]).await.0;
    assert!(
        open.iter().all(|p| p["state"] == "open"),
        "state defaults to open"
    );
}

// Stargazers: oldest first; timestamps only with the star media type.
#[tokio::test]
async fn stargazers_oldest_first_and_star_media_type() {
    let (_, app) = world();
    let plain = get(&app, "/repos/mona/solo/stargazers?per_page=100")
        .await
        .items();
    assert_eq!(plain.len(), 45);
    assert!(plain[0].get("login").is_some() && plain[0].get("starred_at").is_none());
    let accept = [("accept", "application/vnd.github.star+json")];
    let dated = request(&app, "/repos/mona/solo/stargazers?per_page=100", &accept)
        .await
        .items();
    let at = times(&dated, "starred_at");
    assert!(at.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(dated[0]["user"]["login"], plain[0]["login"]);
    let v3 = [("accept", "application/vnd.github.v3.star+json")];
    let versioned = request(&app, "/repos/mona/solo/stargazers?per_page=100", &v3)
        .await
        .items();
    assert_eq!(versioned, dated, "the versioned media type is honoured too");
}

// The Link header, exactly as GitHub writes it, on the base the client used.
#[tokio::test]
async fn link_header_format() {
    let (world, app) = world();
    let id = {
        let r = get(&app, "/repos/octo/app").await.json();
        r["id"].as_u64().unwrap()
    };
    let host = [("host", "gh.local:8080")];
    let first = request(&app, "/repos/octo/app/commits?per_page=100&sha=main", &host).await;
    let base = format!("http://gh.local:8080/repositories/{id}/commits");
    assert_eq!(
        first.header("link").unwrap(),
        format!(
            "<{base}?per_page=100&sha=main&page=2>; rel=\"next\", <{base}?per_page=100&sha=main&page=3>; rel=\"last\""
        )
    );
    let mid = request(
        &app,
        "/repos/octo/app/commits?per_page=100&page=2&sha=main",
        &host,
    )
    .await;
    assert_eq!(
        mid.header("link").unwrap(),
        format!(
            "<{base}?per_page=100&page=1&sha=main>; rel=\"prev\", <{base}?per_page=100&page=3&sha=main>; rel=\"next\", \
             <{base}?per_page=100&page=3&sha=main>; rel=\"last\", <{base}?per_page=100&page=1&sha=main>; rel=\"first\""
        )
    );
    let last = request(
        &app,
        "/repos/octo/app/commits?per_page=100&page=3&sha=main",
        &host,
    )
    .await;
    let rels: Vec<String> = links(last.header("link").unwrap())
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(rels, ["prev", "first"]);
    assert_eq!(last.items().len(), 60);
    let one = get(&app, "/repos/octo/small/commits").await;
    assert_eq!(one.header("link"), None, "no Link when one page suffices");
    let past = get(&app, "/repos/octo/app/commits?page=99").await;
    assert_eq!(
        (past.status, past.body.as_slice()),
        (StatusCode::OK, &b"[]"[..])
    );
    assert_eq!(world.truth("octo/app").unwrap().counts.commits, 260);
}

// /issues pages with an opaque `after=` cursor and gives no rel="last".
#[tokio::test]
async fn issues_use_cursor_pages_without_last() {
    let (world, app) = world();
    let r = get(&app, "/repos/octo/app/issues?state=all&per_page=10").await;
    let l = links(r.header("link").unwrap());
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].0, "next");
    assert!(
        l[0].1.contains("state=all&per_page=10&after="),
        "{}",
        l[0].1
    );
    assert!(!l[0].1.contains("page=2"));
    let (all, pages) = walk(&app, "/repos/octo/app/issues?state=all&per_page=10", &[]).await;
    assert_eq!(
        all.len(),
        world.truth("octo/app").unwrap().counts.issues_and_pulls
    );
    assert_eq!(pages, all.len().div_ceil(10));
    let mut numbers: Vec<u64> = all.iter().map(|i| i["number"].as_u64().unwrap()).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), all.len());
}

// Per_page defaults to 30 and is capped at 100.
#[tokio::test]
async fn per_page_default_and_cap() {
    let (_, app) = world();
    assert_eq!(get(&app, "/repos/octo/app/commits").await.items().len(), 30);
    assert_eq!(
        get(&app, "/repos/octo/app/commits?per_page=250")
            .await
            .items()
            .len(),
        100
    );
}

// 204 for contributors of an empty repository, 409 for its commits.
#[tokio::test]
async fn empty_repository_answers_204_and_409() {
    let (_, app) = world();
    let c = get(&app, "/repos/octo/empty/contributors").await;
    assert_eq!(c.status, StatusCode::NO_CONTENT);
    assert!(c.body.is_empty());
    let commits = get(&app, "/repos/octo/empty/commits").await;
    assert_eq!(commits.status, StatusCode::CONFLICT);
    assert_eq!(commits.json()["message"], "Git Repository is empty.");
    assert_eq!(get(&app, "/repos/octo/empty/releases").await.body, b"[]");
}

// Comments default to ascending id; releases come newest first.
#[tokio::test]
async fn comments_ascending_and_releases_newest_first() {
    let (world, app) = world();
    let (comments, _) = walk(&app, "/repos/octo/app/issues/comments?per_page=100", &[]).await;
    let ids: Vec<u64> = comments.iter().map(|c| c["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(ids.len(), world.truth("octo/app").unwrap().counts.comments);
    let releases = get(&app, "/repos/octo/app/releases").await.items();
    assert!(!releases.is_empty());
    assert!(
        times(&releases, "created_at")
            .windows(2)
            .all(|w| w[0] >= w[1])
    );
}

// Commits: newest first; unlinked emails give a null or {} top-level author.
#[tokio::test]
async fn commits_newest_first_with_unlinked_authors() {
    let (world, app) = world();
    let (commits, _) = walk(&app, "/repos/octo/app/commits?per_page=100", &[]).await;
    let dates: Vec<&str> = commits
        .iter()
        .map(|c| c["commit"]["committer"]["date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] > w[1]));
    assert!(commits.iter().any(|c| c["author"].is_null()));
    assert!(
        commits
            .iter()
            .any(|c| c["author"].as_object().is_some_and(|o| o.is_empty()))
    );
    let truth = world.truth("octo/app").unwrap();
    let shas: Vec<&str> = commits.iter().map(|c| c["sha"].as_str().unwrap()).collect();
    let expected: Vec<&str> = truth.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, expected);
    assert!(
        commits
            .iter()
            .any(|c| c["commit"]["message"].as_str().unwrap().contains('\n'))
    );
}
