//! The ground truth names every item by its keys, and those keys are what the endpoints serve.

use fake_github::Mutation;
use serde_json::Value;

use crate::support::{get, walk, world};

fn text(v: &Value) -> String {
    v.as_str().unwrap().to_owned()
}

#[tokio::test]
async fn releases_stargazers_and_contributors_match_the_endpoints() {
    let (world, app) = world();
    world
        .mutate(
            "octo/app",
            Mutation {
                new_commits: 4,
                merged_commits: 3,
                merged_age_s: 86_400,
                merge_commit: true,
                force_push: 2,
                ..Mutation::NONE
            },
        )
        .unwrap();
    for repo in ["octo/app", "mona/solo", "octo/empty"] {
        let t = world.truth(repo).unwrap();

        let (releases, _) = walk(&app, &format!("/repos/{repo}/releases?per_page=3"), &[]).await;
        let served: Vec<(u64, String, String, String)> = releases
            .iter()
            .map(|r| {
                let id = r["id"].as_u64().unwrap();
                (
                    id,
                    text(&r["tag_name"]),
                    text(&r["created_at"]),
                    text(&r["published_at"]),
                )
            })
            .collect();
        let truth: Vec<(u64, String, String, String)> = t
            .releases
            .iter()
            .map(|r| {
                (
                    r.id,
                    r.tag_name.clone(),
                    r.created_at.clone(),
                    r.published_at.clone(),
                )
            })
            .collect();
        assert_eq!(served, truth, "{repo} releases");
        assert_eq!(t.releases.len(), t.counts.releases);

        let star = [("accept", "application/vnd.github.star+json")];
        let uri = format!("/repos/{repo}/stargazers?per_page=7");
        let (stars, _) = walk(&app, &uri, &star).await;
        let served: Vec<(u64, String, String)> = stars
            .iter()
            .map(|s| {
                (
                    s["user"]["id"].as_u64().unwrap(),
                    text(&s["user"]["login"]),
                    text(&s["starred_at"]),
                )
            })
            .collect();
        let truth: Vec<(u64, String, String)> = t
            .stargazers
            .iter()
            .map(|s| (s.user_id, s.login.clone(), s.starred_at.clone()))
            .collect();
        assert_eq!(served, truth, "{repo} stargazers");
        assert_eq!(t.stargazers.len(), t.counts.stargazers);

        let (people, _) = if t.counts.commits == 0 {
            (Vec::new(), 0)
        } else {
            walk(&app, &format!("/repos/{repo}/contributors?per_page=7"), &[]).await
        };
        let served: Vec<(u64, String, u32)> = people
            .iter()
            .map(|c| {
                let n = c["contributions"].as_u64().unwrap() as u32;
                (c["id"].as_u64().unwrap(), text(&c["login"]), n)
            })
            .collect();
        let truth: Vec<(u64, String, u32)> = t
            .contributors
            .iter()
            .map(|c| (c.user_id, c.login.clone(), c.contributions))
            .collect();
        assert_eq!(served, truth, "{repo} contributors");
        assert_eq!(t.contributors.len(), t.counts.contributors);
    }
    let app_truth = world.truth("octo/app").unwrap();
    assert!(!app_truth.releases.is_empty() && !app_truth.stargazers.is_empty());
}

#[tokio::test]
async fn truth_over_http_reads_back_and_older_truth_json_still_parses() {
    let (world, app) = world();
    let body = get(&app, "/_fake/truth?repo=mona/solo").await.json();
    assert_eq!(body["stargazers"].as_array().unwrap().len(), 45);
    let parsed: fake_github::Truth = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(Some(parsed), world.truth("mona/solo"));
    let mut old = body;
    for key in ["releases", "stargazers", "contributors"] {
        old.as_object_mut().unwrap().remove(key);
    }
    let parsed: fake_github::Truth = serde_json::from_value(old).unwrap();
    assert!(parsed.stargazers.is_empty());
}
