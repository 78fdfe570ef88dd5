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
        ..Default::default()
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
                ..Default::default()
            },
        )
        .unwrap();
        w.mutate(
            "octo/app",
            Mutation {
                new_commits: 1,
                update_issues: 1,
                new_issues: 1,
                ..Default::default()
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

/// The newest `updated_at` of any issue, pull request or comment, and the newest commit date.
fn newest(t: &fake_github::Truth) -> (String, String) {
    let updated = t
        .issues
        .iter()
        .map(|i| i.updated_at.clone())
        .chain(t.comments.iter().map(|c| c.updated_at.clone()))
        .max()
        .unwrap();
    let committed = t.commits.iter().map(|c| c.committer_date.clone()).max();
    (updated, committed.unwrap())
}

#[tokio::test]
async fn touched_pulls_and_edited_comments_move_to_the_end_of_sort_updated() {
    let (world, app) = world();
    let before = world.truth("octo/app").unwrap();
    let (updated, _) = newest(&before);
    let (old_comments, _) = walk(&app, "/repos/octo/app/issues/comments?per_page=100", &[]).await;
    let m = Mutation {
        update_pulls: 3,
        update_comments: 4,
        ..Mutation::NONE
    };
    world.mutate("octo/app", m).unwrap();
    let after = world.truth("octo/app").unwrap();
    let touched: Vec<_> = after
        .issues
        .iter()
        .filter(|i| i.updated_at > updated)
        .collect();
    assert_eq!(touched.len(), 3);
    assert!(touched.iter().all(|i| i.is_pr));

    let (pulls, _) = walk(
        &app,
        "/repos/octo/app/pulls?state=all&sort=updated&direction=asc&per_page=100",
        &[],
    )
    .await;
    let tail: Vec<u64> = pulls[pulls.len() - 3..]
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    let mut expected: Vec<u64> = touched.iter().map(|i| u64::from(i.number)).collect();
    let mut sorted_tail = tail.clone();
    sorted_tail.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted_tail, expected, "touched pull requests come last");

    let edited: Vec<u64> = after
        .comments
        .iter()
        .filter(|c| c.updated_at > updated && c.created_at <= updated)
        .map(|c| c.id)
        .collect();
    assert_eq!(edited.len(), 4, "edited comments keep their creation time");
    // Touched pull requests got a new comment each; edits change no count.
    assert_eq!(after.counts.comments, before.counts.comments + 3);
    let (comments, _) = walk(
        &app,
        "/repos/octo/app/issues/comments?sort=updated&direction=asc&per_page=100",
        &[],
    )
    .await;
    let last: Vec<u64> = comments[comments.len() - 7..]
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert!(
        edited.iter().all(|id| last.contains(id)),
        "{edited:?} in {last:?}"
    );
    let body_of = |items: &[serde_json::Value], id: u64| {
        items
            .iter()
            .find(|c| c["id"].as_u64() == Some(id))
            .map(|c| c["body"].clone())
            .unwrap()
    };
    for id in &edited {
        assert_ne!(body_of(&comments, *id), body_of(&old_comments, *id));
    }
}

#[tokio::test]
async fn a_merged_branch_brings_old_commits_that_since_does_not_see() {
    let (world, app) = world();
    let before = world.truth("octo/app").unwrap();
    let (_, newest_commit) = newest(&before);
    let day = 86_400;
    let m = Mutation {
        merged_commits: 4,
        merged_age_s: day,
        merge_commit: true,
        ..Mutation::NONE
    };
    world.mutate("octo/app", m).unwrap();
    let after = world.truth("octo/app").unwrap();
    assert_eq!(after.counts.commits, before.counts.commits + 5);
    let merge = &after.commits[0];
    assert!(merge.committer_date > newest_commit);
    let merged = &after.commits[1..5];
    assert!(merged.iter().all(|c| c.committer_date < newest_commit));
    let dates: Vec<&str> = merged.iter().map(|c| c.committer_date.as_str()).collect();
    assert!(
        dates.windows(2).all(|w| w[0] > w[1]),
        "increasing among themselves"
    );
    assert_eq!(
        merged[3].committer_date,
        fmt(parse(&newest_commit) - day as i64),
        "the branch starts a day before the newest commit"
    );

    // /commits is branch order, newest first, whatever the dates say.
    let (all, _) = walk(&app, "/repos/octo/app/commits?per_page=100", &[]).await;
    let shas: Vec<&str> = all.iter().map(|c| c["sha"].as_str().unwrap()).collect();
    let truth: Vec<&str> = after.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, truth);
    let parents: Vec<&str> = all[0]["parents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sha"].as_str().unwrap())
        .collect();
    assert_eq!(
        parents,
        [before.commits[0].sha.as_str(), merged[0].sha.as_str()]
    );
    assert_eq!(all[0]["committer"]["login"], "web-flow");

    // An incremental sync by committer date misses the merged commits.
    let since = newest_commit.replace(':', "%3A");
    let (fresh, _) = walk(&app, &format!("/repos/octo/app/commits?since={since}"), &[]).await;
    let fresh: Vec<&str> = fresh.iter().map(|c| c["sha"].as_str().unwrap()).collect();
    assert_eq!(fresh, [merge.sha.as_str(), before.commits[0].sha.as_str()]);
    let until = fmt(parse(&newest_commit) - 1).replace(':', "%3A");
    let (old, _) = walk(
        &app,
        &format!("/repos/octo/app/commits?until={until}&per_page=100"),
        &[],
    )
    .await;
    assert_eq!(
        old.len(),
        before.counts.commits - 1 + 4,
        "until scans the whole branch"
    );
    assert_eq!(old[0]["sha"], merged[0].sha.as_str());
}

#[tokio::test]
async fn a_fast_forward_leaves_an_old_dated_head() {
    let (world, app) = world();
    let before = world.truth("octo/small").unwrap();
    let (_, newest_commit) = newest(&before);
    let year = 31_536_000;
    let m = Mutation {
        merged_commits: 2,
        merged_age_s: year,
        ..Mutation::NONE
    };
    world.mutate("octo/small", m).unwrap();
    let after = world.truth("octo/small").unwrap();
    assert_eq!(after.counts.commits, before.counts.commits + 2);
    let head = get(&app, "/repos/octo/small/commits?per_page=1")
        .await
        .items();
    assert_eq!(head[0]["sha"], after.commits[0].sha.as_str());
    let date = head[0]["commit"]["committer"]["date"].as_str().unwrap();
    assert!(
        parse(date) < parse(&newest_commit) - year as i64 + 86_400,
        "{date}"
    );
    // The repository was still pushed to now.
    let repo = get(&app, "/repos/octo/small").await.json();
    assert!(repo["pushed_at"].as_str().unwrap() > newest_commit.as_str());
}

#[tokio::test]
async fn a_force_push_replaces_the_last_commits() {
    let (world, app) = world();
    let before = world.truth("octo/app").unwrap();
    let (_, newest_commit) = newest(&before);
    let m = Mutation {
        force_push: 3,
        ..Mutation::NONE
    };
    world.mutate("octo/app", m).unwrap();
    let after = world.truth("octo/app").unwrap();
    assert_eq!(after.counts.commits, before.counts.commits);
    assert_eq!(after.commits[3..], before.commits[3..]);
    assert!(
        after.commits[..3]
            .iter()
            .all(|c| c.committer_date > newest_commit)
    );
    let (all, _) = walk(&app, "/repos/octo/app/commits?per_page=100", &[]).await;
    for gone in &before.commits[..3] {
        assert!(all.iter().all(|c| c["sha"] != gone.sha.as_str()));
    }
    assert_eq!(all[2]["parents"][0]["sha"], before.commits[3].sha.as_str());
    let sum: u64 = walk(&app, "/repos/octo/app/contributors?per_page=100", &[])
        .await
        .0
        .iter()
        .map(|c| c["contributions"].as_u64().unwrap())
        .sum();
    let linked = after.commits.iter().filter(|c| c.author_login.is_some());
    assert_eq!(
        sum,
        linked.count() as u64,
        "contributors follow the new history"
    );
}

#[tokio::test]
async fn every_kind_of_mutation_is_deterministic_and_accepted_over_http() {
    let (a, app_a) = world();
    let (b, app_b) = world();
    let m = Mutation {
        new_commits: 2,
        update_issues: 2,
        new_issues: 2,
        update_pulls: 2,
        update_comments: 2,
        merged_commits: 3,
        merged_age_s: 3_600,
        merge_commit: true,
        force_push: 1,
    };
    a.mutate("octo/app", m).unwrap();
    let uri = "/_fake/mutate?repo=octo/app&new_commits=2&update_issues=2&new_issues=2\
               &update_pulls=2&update_comments=2&merged_commits=3&merged_age_s=3600\
               &merge_commit=true&force_push=1";
    let r = send(&app_b, Request::post(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        serde_json::from_value::<Mutation>(r.json()["applied"].clone()).unwrap(),
        m
    );
    assert_eq!(a.truth("octo/app"), b.truth("octo/app"));
    for uri in [
        "/repos/octo/app/commits?per_page=100",
        "/repos/octo/app/issues/comments?sort=updated&per_page=100",
    ] {
        assert_eq!(
            get(&app_a, uri).await.body,
            get(&app_b, uri).await.body,
            "{uri}"
        );
    }
    let bad = Request::post("/_fake/mutate?repo=octo/app&merge_commit=maybe")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app_a, bad).await.status, 422);
    let old: Mutation =
        serde_json::from_str(r#"{"new_commits":1,"update_issues":0,"new_issues":0}"#).unwrap();
    assert_eq!(
        old,
        Mutation {
            new_commits: 1,
            ..Mutation::NONE
        },
        "old JSON still reads"
    );
}

fn parse(ts: &str) -> i64 {
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

fn fmt(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
