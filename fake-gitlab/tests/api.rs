//! fake-gitlab's answers as GitLab documents them: offset and keyset pages, the three ways to
//! send a token, error bodies, rate-limit headers, faults, HTTPS.

use fake_gitlab::{FakeGitlab, Mutation, ProjectSize, RunningFake};
use reqwest::header::HeaderMap;
use serde_json::Value;

fn start() -> RunningFake {
    FakeGitlab::builder()
        .token("t")
        .project("acme/tools/app", ProjectSize::new(45, 25, 5))
        .project("acme/web", ProjectSize::new(3, 2, 1))
        .project("acme/deep/er/lib", ProjectSize::new(1, 0, 0))
        .start()
        .expect("starts")
}

async fn get(url: &str) -> (u16, HeaderMap, Value) {
    let r = reqwest::Client::new()
        .get(url)
        .header("PRIVATE-TOKEN", "t")
        .send()
        .await
        .expect("answer");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn offset_pages_carry_the_x_headers_and_links() {
    let fake = start();
    let base = format!(
        "{}/projects/acme%2Ftools%2Fapp/issues?per_page=10",
        fake.api_url()
    );
    let (s, hd, body) = get(&format!("{base}&page=1")).await;
    assert_eq!(s, 200);
    assert_eq!(body.as_array().map(Vec::len), Some(10));
    assert_eq!(h(&hd, "x-next-page"), Some("2"));
    assert_eq!(h(&hd, "x-prev-page"), Some(""));
    assert_eq!(h(&hd, "x-total"), Some("25"));
    assert_eq!(h(&hd, "x-total-pages"), Some("3"));
    let link = h(&hd, "link").unwrap_or_default();
    assert!(link.contains("page=2&per_page=10>; rel=\"next\""), "{link}");
    assert!(link.contains("page=3&per_page=10>; rel=\"last\""), "{link}");
    let (_, hd, body) = get(&format!("{base}&page=3")).await;
    assert_eq!(body.as_array().map(Vec::len), Some(5));
    assert_eq!(h(&hd, "x-next-page"), Some(""), "empty on the last page");
    assert!(!h(&hd, "link").unwrap_or_default().contains("rel=\"next\""));
}

#[tokio::test]
async fn keyset_pages_follow_only_the_next_link() {
    let fake = start();
    let mut url = format!(
        "{}/groups/acme/projects?include_subgroups=true&pagination=keyset&order_by=id&sort=asc&per_page=1",
        fake.api_url()
    );
    let mut ids = vec![];
    for _ in 0..10 {
        let (s, hd, body) = get(&url).await;
        assert_eq!(s, 200);
        assert_eq!(h(&hd, "x-total"), None);
        ids.extend(
            body.as_array()
                .into_iter()
                .flatten()
                .map(|p| p["id"].as_u64()),
        );
        let link = h(&hd, "link").unwrap_or_default().to_owned();
        match link
            .strip_prefix('<')
            .and_then(|l| l.split_once(">; rel=\"next\""))
        {
            Some((next, _)) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let (s, _, _) = get(&format!(
        "{}/projects?pagination=keyset&order_by=name",
        fake.api_url()
    ))
    .await;
    assert_eq!(s, 405);
    let (_, _, direct) = get(&format!("{}/groups/acme/projects", fake.api_url())).await;
    assert_eq!(
        direct.as_array().map(Vec::len),
        Some(1),
        "subgroups only when asked"
    );
}

#[tokio::test]
async fn a_token_goes_in_a_header_a_bearer_or_the_query_and_errors_are_gitlabs() {
    let fake = start();
    let c = reqwest::Client::new();
    let url = format!("{}/projects/acme%2Fweb", fake.api_url());
    let status = |r: reqwest::Response| r.status().as_u16();
    let header = c.get(&url).header("PRIVATE-TOKEN", "t").send().await;
    assert_eq!(status(header.expect("answer")), 200);
    let bearer = c.get(&url).bearer_auth("t").send().await;
    assert_eq!(status(bearer.expect("answer")), 200);
    let query = c.get(format!("{url}?private_token=t")).send().await;
    assert_eq!(status(query.expect("answer")), 200);
    let r = c.get(&url).send().await.expect("answer");
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["message"], "401 Unauthorized");
    let (s, _, body) = get(&format!("{}/projects/acme%2Fnope", fake.api_url())).await;
    assert_eq!(
        (s, body["message"].as_str()),
        (404, Some("404 Project Not Found"))
    );
    let id = fake.truth("acme/web").expect("truth").project["id"].clone();
    let (s, _, body) = get(&format!("{}/projects/{id}", fake.api_url())).await;
    assert_eq!(s, 200);
    assert_eq!(body["path_with_namespace"], "acme/web");
    assert_eq!(fake.stats().requests, 6);
}

#[tokio::test]
async fn rate_limit_headers_come_with_429s_and_on_request_with_every_answer() {
    let fake = FakeGitlab::builder()
        .project("a/b", ProjectSize::new(1, 1, 0))
        .faults("ratelimit:every=2:budget=1".parse().expect("spec"))
        .start()
        .expect("starts");
    let url = format!("{}/projects/a%2Fb", fake.api_url());
    let (s, hd, _) = get(&url).await;
    assert_eq!((s, h(&hd, "ratelimit-remaining")), (200, None));
    let (s, hd, _) = get(&url).await;
    assert_eq!(s, 429);
    assert_eq!(h(&hd, "retry-after"), Some("1"));
    assert_eq!(h(&hd, "ratelimit-remaining"), Some("0"));
    assert!(h(&hd, "ratelimit-resettime").is_some_and(|t| t.ends_with("GMT")));
    let (s, _, _) = get(&url).await;
    assert_eq!(s, 200, "the budget is spent");
    let always = FakeGitlab::builder()
        .project("a/b", ProjectSize::new(1, 1, 0))
        .ratelimit_headers_always(true)
        .start()
        .expect("starts");
    let (_, hd, _) = get(&format!("{}/projects/a%2Fb", always.api_url())).await;
    assert_eq!(h(&hd, "ratelimit-limit"), Some("2000"));
}

#[tokio::test]
async fn a_note_touches_its_issue_for_updated_after() {
    let fake = start();
    fake.mutate("acme/web", Mutation::NoteOnIssue { iid: 1 })
        .expect("note");
    let truth = fake.truth("acme/web").expect("truth");
    let newest = truth
        .issue_notes
        .iter()
        .filter_map(|n| n["created_at"].as_str())
        .max()
        .unwrap_or_default()
        .to_owned();
    let (_, _, body) = get(&format!(
        "{}/projects/acme%2Fweb/issues?updated_after={newest}&order_by=updated_at&sort=asc",
        fake.api_url()
    ))
    .await;
    let iids: Vec<_> = body
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["iid"].as_u64())
        .collect();
    assert_eq!(iids, vec![Some(1)]);
}

#[tokio::test]
async fn https_with_a_throwaway_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeGitlab::builder()
        .project("a/b", ProjectSize::new(3, 0, 0))
        .also_http(true)
        .start_tls_on(0, dir.path())
        .expect("starts");
    assert!(fake.api_url().starts_with("https://"));
    let pem = std::fs::read(dir.path().join("cert.pem")).expect("cert");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .build()
        .expect("client");
    let r = client
        .get(format!("{}/projects/a%2Fb", fake.api_url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.expect("json");
    assert!(
        body["web_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://"))
    );
    // The same data over plain HTTP; its links stay on plain HTTP.
    let plain = fake.plain_url().expect("a plain listener");
    let (s, hd, _) = get(&format!(
        "{plain}/api/v4/projects/a%2Fb/repository/commits?per_page=1"
    ))
    .await;
    assert_eq!(s, 200);
    let link = h(&hd, "link").unwrap_or_default();
    assert!(link.starts_with(&format!("<{plain}/")), "{link}");
}
