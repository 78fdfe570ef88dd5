//! fake-jira's API through its router (no socket): Jira's answers to auth, the removed search,
//! an unbounded query and a bad token; search paging by token to the end; JQL dates read in the
//! user's zone; search seeing a change only after the index lag; faults counted.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use fake_jira::{FakeJira, Mutation, World, base64};
use serde_json::Value;
use tower::ServiceExt as _;

fn world(builder: fake_jira::Builder) -> Arc<World> {
    Arc::new(
        builder
            .credentials("a@b.c", "tok")
            .build("http://jira.test")
            .unwrap(),
    )
}

async fn get(app: &Router, uri: &str, auth: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(creds) = auth {
        req = req.header("authorization", format!("Basic {}", base64(creds)));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

async fn json(app: &Router, uri: &str) -> Value {
    let (status, body) = get(app, uri, Some("a@b.c:tok")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn jira_answers_auth_the_removed_search_and_unbounded_queries_as_jira_does() {
    let app = fake_jira::app(world(FakeJira::builder()));
    let (status, body) = get(&app, "/rest/api/3/myself", Some("a@b.c:wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        b"Client must be authenticated to access this resource."
    );
    let (status, body) = get(
        &app,
        "/rest/api/3/search?jql=project%3DALPHA",
        Some("a@b.c:tok"),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(String::from_utf8_lossy(&body).contains("/rest/api/3/search/jql"));
    let (status, _) = get(&app, "/rest/api/3/search/jql", Some("a@b.c:tok")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(
        &app,
        "/rest/api/3/search/jql?jql=project%3DALPHA&nextPageToken=nope",
        Some("a@b.c:tok"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json(&app, "/rest/api/3/myself").await["timeZone"],
        "America/Los_Angeles"
    );
}

#[tokio::test]
async fn search_pages_by_token_to_the_end_with_dates_read_in_the_users_zone() {
    let w = world(FakeJira::builder().seed(4));
    let app = fake_jira::app(w.clone());
    let jql = enc(
        "project in (ALPHA, BETA, GAMMA) AND updated >= \"2025/03/01 00:00\" ORDER BY updated ASC",
    );
    let mut seen: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut uri = format!("/rest/api/3/search/jql?jql={jql}&fields=updated&maxResults=50");
        if let Some(t) = &token {
            uri.push_str(&format!("&nextPageToken={t}"));
        }
        let page = json(&app, &uri).await;
        assert!(page.get("total").is_none(), "no total");
        seen.extend(
            page["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["fields"]["updated"].as_str().unwrap().to_owned()),
        );
        if page["isLast"] == true {
            assert!(page.get("nextPageToken").is_none());
            break;
        }
        token = Some(page["nextPageToken"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 120);
    let instants: Vec<jiff::Timestamp> = seen.iter().map(|s| s.parse().unwrap()).collect();
    assert!(
        instants.windows(2).all(|p| p[0] <= p[1]),
        "oldest update first"
    );
    // The newest issue's minute, written in Los Angeles time, finds it; the same digits read as
    // UTC would be eight hours later and find nothing.
    let newest = *instants.last().unwrap();
    let la = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
    let minute = newest
        .to_zoned_datetime(la)
        .strftime("%Y/%m/%d %H:%M")
        .to_string();
    let page = json(
        &app,
        &format!(
            "/rest/api/3/search/jql?jql={}",
            enc(&format!("updated >= \"{minute}\""))
        ),
    )
    .await;
    assert!(!page["issues"].as_array().unwrap().is_empty());
    let utc = newest.strftime("%Y/%m/%d %H:%M").to_string();
    let page = json(
        &app,
        &format!(
            "/rest/api/3/search/jql?jql={}",
            enc(&format!("updated >= \"{utc}\""))
        ),
    )
    .await;
    assert!(page["issues"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn search_sees_a_change_after_the_index_lag_and_faults_are_counted() {
    let w = world(
        FakeJira::builder()
            .seed(4)
            .index_lag(Duration::from_millis(300))
            .faults("http503:every=2".parse().unwrap()),
    );
    let app = fake_jira::app(w.clone());
    let key = w.truth().issues[0]["key"].as_str().unwrap().to_owned();
    w.mutate(&Mutation::UpdateIssue { key: key.clone() })
        .unwrap();
    let summary = w.truth().issues[0]["fields"]["summary"].clone();
    let uri = format!(
        "/rest/api/3/search/jql?jql={}&fields=summary",
        enc(&format!("project = {}", &key[..key.find('-').unwrap()]))
    );
    let first = |v: Value| {
        v["issues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == key.as_str())
            .unwrap()["fields"]["summary"]
            .clone()
    };
    assert_ne!(first(json(&app, &uri).await), summary, "not indexed yet");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (status, _) = get(&app, &uri, Some("a@b.c:tok")).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the second request"
    );
    assert_eq!(first(json(&app, &uri).await), summary);
    let stats = w.stats();
    assert_eq!(stats.faults.get("http503"), Some(&1));
    assert_eq!(stats.requests_to("/rest/api/3/search/jql"), 3);
}
