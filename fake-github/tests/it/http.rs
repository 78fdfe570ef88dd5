//! Headers, ETags and 304s, and GitHub's error answers.

use axum::http::StatusCode;

use crate::support::{builder, get, request, world, world_of};

#[tokio::test]
async fn every_answer_has_rate_limit_headers_and_an_etag() {
    let (_, app) = world();
    let r = get(&app, "/repos/octo/app/issues").await;
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-used",
        "x-ratelimit-reset",
        "etag",
    ] {
        assert!(r.header(h).is_some(), "{h}");
    }
    assert_eq!(r.header("x-ratelimit-resource"), Some("core"));
    assert_eq!(r.header("x-ratelimit-used"), Some("1"));
    let reset: i64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(reset > now && reset <= now + 3_600);
    let nf = get(&app, "/repos/octo/nope").await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert_eq!(nf.json()["message"], "Not Found");
    assert!(nf.header("x-ratelimit-remaining").is_some());
}

#[tokio::test]
async fn rate_limit_endpoint_does_not_count() {
    let (_, app) = world();
    get(&app, "/repos/octo/app").await;
    let r = get(&app, "/rate_limit").await;
    let body = r.json();
    assert_eq!(body["resources"]["core"]["used"], 1);
    assert_eq!(body["rate"]["remaining"], 4_999);
    let again = get(&app, "/rate_limit").await;
    assert_eq!(again.json()["resources"]["core"]["used"], 1);
}

#[tokio::test]
async fn conditional_requests_get_304_and_authorized_ones_use_no_quota() {
    let (world, app) = world_of(builder().token("s3cret"));
    let auth = ("authorization", "Bearer s3cret");
    let first = request(&app, "/repos/octo/app/commits?per_page=5", &[auth]).await;
    let etag = first.header("etag").unwrap().to_owned();
    assert!(etag.starts_with("W/\""));
    let cond = request(
        &app,
        "/repos/octo/app/commits?per_page=5",
        &[auth, ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(cond.status, StatusCode::NOT_MODIFIED);
    assert!(cond.body.is_empty());
    assert_eq!(
        cond.header("x-ratelimit-used"),
        Some("1"),
        "an authorized 304 is free"
    );
    let other = request(
        &app,
        "/repos/octo/app/commits?per_page=6",
        &[auth, ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.header("x-ratelimit-used"), Some("2"));
    // After a change, the same request is no longer "not modified".
    world
        .mutate(
            "octo/app",
            fake_github::Mutation {
                new_commits: 1,
                ..Default::default()
            },
        )
        .unwrap();
    let changed = request(
        &app,
        "/repos/octo/app/commits?per_page=5",
        &[auth, ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);

    let (_, anon) = crate::support::world();
    let e = get(&anon, "/repos/octo/app")
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let c = request(&anon, "/repos/octo/app", &[("if-none-match", &e)]).await;
    assert_eq!(c.status, StatusCode::NOT_MODIFIED);
    assert_eq!(
        c.header("x-ratelimit-used"),
        Some("2"),
        "an unauthenticated 304 still counts"
    );
}

#[tokio::test]
async fn bad_credentials_are_401_without_rate_limit_headers() {
    let (_, app) = world_of(builder().token("s3cret"));
    for auth in ["", "Bearer wrong", "token nope"] {
        let r = request(&app, "/repos/octo/app", &[("authorization", auth)]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.json()["message"], "Bad credentials");
        assert!(r.header("x-ratelimit-remaining").is_none());
    }
    for auth in ["Bearer s3cret", "token s3cret"] {
        assert_eq!(
            request(&app, "/repos/octo/app", &[("authorization", auth)])
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn missing_user_agent_is_403() {
    let (_, app) = world();
    let r = request(&app, "/repos/octo/app", &[("user-agent", "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&r.body).contains("User-Agent"));
}

#[tokio::test]
async fn repository_names_are_case_insensitive_and_reachable_by_id() {
    let (_, app) = world();
    let r = get(&app, "/repos/OCTO/App").await.json();
    assert_eq!(r["full_name"], "octo/app");
    assert_eq!(r["owner"]["type"], "Organization");
    let by_id = get(&app, &format!("/repositories/{}", r["id"]))
        .await
        .json();
    assert_eq!(by_id, r);
    assert_eq!(
        get(&app, "/orgs/nobody/repos").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/repos/mona/solo").await.json()["owner"]["type"],
        "User"
    );
}
