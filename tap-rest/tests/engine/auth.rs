//! Every kind of authentication on an invented API: what each request carries, OAuth 2 tokens
//! fetched from the same server (again before they expire, once more after a 401), and canary
//! secrets that never show in the tap's output, logs, errors or STATE.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Api, Files, Reply, Req, engine, field, parse_lines, schema, sync};

/// A connector whose one stream `entries` (3 items, 2 a page) authenticates with `auth`.
fn defs(auth: &str) -> String {
    r#"
[connector]
name = "vault"
[settings]
api_url = { type = "string" }
key = { type = "string", secret = true }
user = { type = "string" }
client_id = { type = "string" }
client_secret = { type = "string", secret = true }
refresh = { type = "string", secret = true }
[http]
base_url = "{api_url:raw}"
AUTH
[[stream]]
name = "entries"
path = "/entries"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "page_number", param = "page", size_param = "size", size = 2 }
"#
    .replace("AUTH", auth)
}

fn entries_schema() -> Value {
    schema(&[("id", "integer")])
}

/// Page `page` of 3 entries, 2 a page.
fn page(r: &Req) -> Reply {
    let from = (r.n("page").max(1) - 1) * 2;
    let items: Vec<Value> = (from + 1..=3.min(from + 2))
        .map(|i| json!({"id": i}))
        .collect();
    Reply::json(json!(items))
}

/// Syncs `auth` with `config` (plus the API's URL) against `api`; the ids written.
async fn run(api: &Api, auth: &str, config: Value) -> Result<Vec<Value>, String> {
    let engine = engine(&defs(auth), &[("entries", entries_schema())]);
    let mut config = config;
    config["api_url"] = json!(api.url);
    sync(&engine, config, singer::State::default())
        .await
        .map(|(m, _)| field(&m, "entries", "id"))
        .map_err(|e| e.to_string())
}

const PAGES: [&str; 2] = ["GET /entries?page=1&size=2", "GET /entries?page=2&size=2"];

/// The `authorization` header of each request.
fn authorization(api: &Api) -> Vec<Option<String>> {
    api.requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_sends_no_credentials() {
    let api = Api::start(page).await;
    let ids = run(&api, "", json!({"key": "unused-key"})).await.unwrap();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(api.lines(), PAGES);
    assert_eq!(authorization(&api), [None, None]);
    assert!(api.requests().iter().all(|r| r.header("x-key").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_with_its_own_scheme_and_none_when_empty() {
    let auth = "[auth]\nkind = \"bearer\"\nscheme = \"Vault-Token\"\ntoken = \"{key}\"";
    let api = Api::start(page).await;
    run(&api, auth, json!({"key": "k-123"})).await.unwrap();
    let sent = Some("Vault-Token k-123".to_owned());
    assert_eq!(authorization(&api), [sent.clone(), sent]);

    let api = Api::start(page).await;
    run(&api, auth, json!({"key": ""})).await.unwrap();
    assert_eq!(
        authorization(&api),
        [None, None],
        "an empty token sends none"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_a_header_of_its_own() {
    let api = Api::start(page).await;
    let auth = "[auth]\nkind = \"header\"\nname = \"Vault-Pass\"\nvalue = \"pass:{key}\"";
    run(&api, auth, json!({"key": "k-9"})).await.unwrap();
    assert_eq!(api.lines(), PAGES);
    for r in api.requests() {
        assert_eq!(r.header("vault-pass"), Some("pass:k-9"));
        assert_eq!(r.header("authorization"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_alternative_given_is_sent_and_only_that_one() {
    let auth = r#"[auth]
kind = "first_of"
of = [
  { kind = "bearer", token = "{refresh}" },
  { kind = "header", name = "Vault-Pass", value = "{key}" },
]"#;
    let api = Api::start(page).await;
    run(&api, auth, json!({"refresh": "oauth-1", "key": "k-9"}))
        .await
        .unwrap();
    for r in api.requests() {
        assert_eq!(r.header("authorization"), Some("Bearer oauth-1"));
        assert_eq!(r.header("vault-pass"), None);
    }

    let api = Api::start(page).await;
    run(&api, auth, json!({"refresh": "", "key": "k-9"}))
        .await
        .unwrap();
    for r in api.requests() {
        assert_eq!(r.header("authorization"), None);
        assert_eq!(r.header("vault-pass"), Some("k-9"));
    }

    let api = Api::start(page).await;
    run(&api, auth, json!({"refresh": "", "key": ""}))
        .await
        .unwrap();
    assert_eq!(authorization(&api), [None, None], "none given sends none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_basic() {
    let api = Api::start(page).await;
    let auth = "[auth]\nkind = \"basic\"\nusername = \"{user}\"\npassword = \"{key}\"";
    run(&api, auth, json!({"user": "alice", "key": "wonder"}))
        .await
        .unwrap();
    let sent = Some("Basic YWxpY2U6d29uZGVy".to_owned());
    assert_eq!(authorization(&api), [sent.clone(), sent]);
}

/// A list of 3 entries paged by a next URL that echoes every query parameter, the key too
/// (as many APIs write their links).
fn echoing(r: &Req) -> Reply {
    let after = r.n("after");
    let items: Vec<Value> = (after + 1..=3.min(after + 2))
        .map(|i| json!({"id": i}))
        .collect();
    let next = (after + 2 < 3).then(|| {
        let key = r.q("access_key").unwrap_or_default();
        format!("{}/entries?after={}&access_key={key}", r.base, after + 2)
    });
    Reply::json(json!({"items": items, "next": next}))
}

const QUERY_DEFS_TAIL: &str = r#"
[[stream]]
name = "entries"
path = "/entries"
records = "/items"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "next_url", from = { pointer = "/next" } }
"#;

fn query_defs() -> String {
    defs("[auth]\nkind = \"query\"\nname = \"access_key\"\nvalue = \"{key}\"")
        .split("[[stream]]")
        .next()
        .unwrap()
        .to_owned()
        + QUERY_DEFS_TAIL
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_a_query_parameter_is_sent_once_even_when_a_next_url_echoes_it() {
    let api = Api::start(echoing).await;
    let engine = engine(&query_defs(), &[("entries", entries_schema())]);
    let (messages, _) = sync(
        &engine,
        json!({"api_url": api.url, "key": "qk-1"}),
        singer::State::default(),
    )
    .await
    .unwrap();
    assert_eq!(field(&messages, "entries", "id"), [1, 2, 3]);
    assert_eq!(
        api.lines(),
        [
            "GET /entries?access_key=qk-1",
            "GET /entries?access_key=qk-1&after=2"
        ]
    );
    for r in api.requests() {
        assert_eq!(r.q_all("access_key"), ["qk-1"], "{}", r.raw_query);
    }
}

const CANARY: &str = "CANARY-7f3a9c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_key_never_shows_in_logs_errors_or_state() {
    // Page 1 is served with a next URL that echoes the key; page 2 fails once with 500 (a retry
    // is logged with its URL), then answers 404 with a body that echoes the whole URL.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let api = Api::start(move |r| {
        if r.q("after").is_none() {
            return echoing(r);
        }
        let echo = format!(
            "{{\"message\": \"no such page: /entries?{}\"}}",
            r.raw_query
        );
        match seen.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::status(500, &echo),
            _ => Reply::status(404, &echo),
        }
    })
    .await;
    let text = query_defs().replace(
        "replication = { mode = \"full_table\" }",
        "replication = { mode = \"since_param\", param = \"since\", key = \"/id\", order = \"ascending\" }",
    );
    let files = Files::new(
        &text,
        &[("entries", entries_schema())],
        &json!({"api_url": api.url, "key": CANARY, "max_retries": 1}),
    );
    let (code, stdout, stderr) = files.run(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        api.requests()
            .iter()
            .all(|r| r.q_all("access_key") == [CANARY])
    );
    assert_eq!(api.requests().len(), 3, "{:?}", api.lines());
    let messages = parse_lines(&stdout);
    assert!(
        messages.iter().any(|m| m["type"] == "STATE"),
        "page 1 was bookmarked: {stdout}"
    );
    let last = stderr.lines().last().unwrap();
    assert!(last.starts_with("tap-rest: error: "), "{stderr}");
    assert!(last.contains("404"), "{last}");
    assert!(
        stderr.contains("retry 1/1"),
        "the retry was logged: {stderr}"
    );
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains(CANARY),
            "the key leaked into {what}:\n{text}"
        );
    }
}

/// An OAuth 2 API: `POST /oauth/token` hands out `tok-1`, `tok-2`, … valid `expires_in`
/// seconds; `/entries` accepts only the tokens `valid` allows. Returns the API and the forms
/// the token endpoint received.
async fn oauth_api(
    expires_in: u64,
    valid: impl Fn(&str) -> bool + Send + Sync + 'static,
    delay_first_page: Duration,
) -> (Api, Arc<Mutex<Vec<Vec<(String, String)>>>>) {
    let forms = Arc::new(Mutex::new(Vec::new()));
    let seen = forms.clone();
    let issued = AtomicUsize::new(0);
    let api = Api::start(move |r| {
        if r.path == "/oauth/token" {
            seen.lock().unwrap().push(r.form());
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(
                json!({"access_token": format!("tok-{n}"), "token_type": "bearer", "expires_in": expires_in}),
            );
        }
        let token = r
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !valid(token) {
            return Reply::status(401, &format!("{{\"message\": \"token {token} refused\"}}"));
        }
        let reply = page(r);
        if r.n("page") == 1 {
            reply.after(delay_first_page)
        } else {
            reply
        }
    })
    .await;
    (api, forms)
}

fn client_credentials(margin: Option<u64>) -> String {
    let margin = margin.map_or(String::new(), |m| format!("refresh_margin_s = {m}\n"));
    format!(
        "[auth]\nkind = \"oauth2\"\ngrant = \"client_credentials\"\ntoken_url = \"{{api_url:raw}}/oauth/token\"\nclient_id = \"{{client_id}}\"\nclient_secret = \"{{client_secret}}\"\nscopes = [\"entries:read\", \"entries:list\"]\n{margin}"
    )
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    f.sort();
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_client_credentials_one_token_while_it_is_valid() {
    let (api, forms) = oauth_api(3_600, |t| t == "tok-1", Duration::ZERO).await;
    let config = json!({"client_id": "app-1", "client_secret": "cs-1"});
    let ids = run(&api, &client_credentials(None), config).await.unwrap();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(
        api.lines(),
        [
            "POST /oauth/token",
            "GET /entries?page=1&size=2",
            "GET /entries?page=2&size=2"
        ]
    );
    assert_eq!(
        *forms.lock().unwrap(),
        [form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            ("client_secret", "cs-1"),
            ("scope", "entries:read entries:list"),
        ])]
    );
    let sent = Some("Bearer tok-1".to_owned());
    assert_eq!(
        authorization(&api),
        [None, sent.clone(), sent],
        "the token request carries no bearer token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_tokens_are_fetched_again_before_they_expire() {
    // 30 s of validity is inside the default 60 s margin: every request gets a fresh token.
    let (api, _) = oauth_api(30, |_| true, Duration::ZERO).await;
    let config = json!({"client_id": "app-1", "client_secret": "cs-1"});
    run(&api, &client_credentials(None), config.clone())
        .await
        .unwrap();
    assert_eq!(
        api.lines(),
        [
            "POST /oauth/token",
            "GET /entries?page=1&size=2",
            "POST /oauth/token",
            "GET /entries?page=2&size=2"
        ]
    );
    assert_eq!(
        authorization(&api)[1..],
        [
            None,
            Some("Bearer tok-1".into()),
            None,
            Some("Bearer tok-2".into())
        ][1..]
    );

    // With no margin, the same token serves both pages…
    let (api, _) = oauth_api(30, |_| true, Duration::ZERO).await;
    run(&api, &client_credentials(Some(0)), config.clone())
        .await
        .unwrap();
    assert_eq!(api.lines().len(), 3, "{:?}", api.lines());

    // …until it really expires: a 1 s token outlived by a slow first page is fetched again.
    let (api, _) = oauth_api(1, |_| true, Duration::from_millis(1_100)).await;
    run(&api, &client_credentials(Some(0)), config)
        .await
        .unwrap();
    assert_eq!(
        api.lines(),
        [
            "POST /oauth/token",
            "GET /entries?page=1&size=2",
            "POST /oauth/token",
            "GET /entries?page=2&size=2"
        ]
    );
}

fn refresh_grant() -> &'static str {
    "[auth]\nkind = \"oauth2\"\ngrant = \"refresh_token\"\ntoken_url = \"{api_url:raw}/oauth/token\"\nclient_id = \"{client_id}\"\nclient_secret = \"{client_secret}\"\nrefresh_token = \"{refresh}\""
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_refresh_token_and_a_401_fetches_one_new_token() {
    // tok-1 was revoked: its 401 brings tok-2, which works.
    let (api, forms) = oauth_api(3_600, |t| t == "tok-2", Duration::ZERO).await;
    let config = json!({"client_id": "app-2", "client_secret": "cs-2", "refresh": "rt-2"});
    let ids = run(&api, refresh_grant(), config.clone()).await.unwrap();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(
        api.lines(),
        [
            "POST /oauth/token",
            "GET /entries?page=1&size=2",
            "POST /oauth/token",
            "GET /entries?page=1&size=2",
            "GET /entries?page=2&size=2"
        ]
    );
    let expected = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", "app-2"),
        ("client_secret", "cs-2"),
        ("refresh_token", "rt-2"),
    ]);
    assert_eq!(*forms.lock().unwrap(), [expected.clone(), expected]);

    // A token refused every time: one new token, then the run fails.
    let (api, _) = oauth_api(3_600, |_| false, Duration::ZERO).await;
    let err = run(&api, refresh_grant(), config).await.unwrap_err();
    assert!(err.starts_with("unauthorized: "), "{err}");
    assert_eq!(
        api.lines(),
        [
            "POST /oauth/token",
            "GET /entries?page=1&size=2",
            "POST /oauth/token",
            "GET /entries?page=1&size=2"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_secrets_and_tokens_never_show_in_output() {
    // The token endpoint refuses, echoing the form it got.
    let api = Api::start(|r| {
        let form: Vec<String> = r.form().iter().map(|(k, v)| format!("{k}={v}")).collect();
        Reply::status(
            400,
            &json!({"message": format!("invalid_client: {}", form.join("&"))}).to_string(),
        )
    })
    .await;
    let config = json!({"api_url": api.url, "client_id": "app-3", "client_secret": CANARY});
    let files = Files::new(
        &defs(&client_credentials(None)),
        &[("entries", entries_schema())],
        &config,
    );
    let (code, stdout, stderr) = files.run(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(api.lines(), ["POST /oauth/token"]);
    let last = stderr.lines().last().unwrap();
    assert!(last.contains("invalid_client"), "{last}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(CANARY), "the client secret leaked:\n{text}");
    }

    // The API refuses the access token it was given, echoing it.
    let token = format!("{CANARY}-access");
    let api = Api::start(move |r| {
        if r.path == "/oauth/token" {
            return Reply::json(json!({"access_token": token, "expires_in": 3600}));
        }
        let echo = r.header("authorization").unwrap_or_default();
        Reply::status(
            401,
            &json!({"message": format!("{echo} is revoked")}).to_string(),
        )
    })
    .await;
    let config = json!({"api_url": api.url, "client_id": "app-3", "client_secret": "cs-3"});
    let files = Files::new(
        &defs(&client_credentials(None)),
        &[("entries", entries_schema())],
        &config,
    );
    let (code, stdout, stderr) = files.run(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(api.lines().len(), 4, "{:?}", api.lines());
    let last = stderr.lines().last().unwrap();
    assert!(
        last.contains("unauthorized") && last.contains("revoked"),
        "{last}"
    );
    for text in [&stdout, &stderr] {
        assert!(!text.contains(CANARY), "the access token leaked:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_headers_and_user_agent_go_with_every_request() {
    let text = defs("").replace(
        "base_url = \"{api_url:raw}\"",
        "base_url = \"{api_url:raw}\"\nheaders = { Accept = \"application/x-vault+json\", Vault-Tenant = \"{user}\" }\nuser_agent = \"vault-tap/{version}\"",
    );
    let engine = engine(&text, &[("entries", entries_schema())]);
    let api = Api::start(page).await;
    sync(
        &engine,
        json!({"api_url": api.url, "user": "acme"}),
        singer::State::default(),
    )
    .await
    .unwrap();
    assert_eq!(api.lines(), PAGES);
    let version = env!("CARGO_PKG_VERSION");
    for r in api.requests() {
        assert_eq!(r.header("accept"), Some("application/x-vault+json"));
        assert_eq!(r.header("vault-tenant"), Some("acme"));
        assert_eq!(
            r.header("user-agent"),
            Some(format!("vault-tap/{version}").as_str())
        );
    }
    // The `user_agent` setting wins.
    let api = Api::start(page).await;
    sync(
        &engine,
        json!({"api_url": api.url, "user": "acme", "user_agent": "ops-team/2"}),
        singer::State::default(),
    )
    .await
    .unwrap();
    assert!(
        api.requests()
            .iter()
            .all(|r| r.header("user-agent") == Some("ops-team/2"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_is_used_for_the_next_refresh() {
    // Each refresh token works once and the answer brings the next one; `expires_in` is
    // written as text, 30 s: inside the 60 s margin, so every request refreshes.
    let current = Arc::new(Mutex::new("rt-1".to_owned()));
    let issued = AtomicUsize::new(0);
    let api = Api::start(move |r| {
        if r.path != "/oauth/token" {
            return page(r);
        }
        let form = r.form();
        let given = form
            .iter()
            .find(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.clone());
        let mut cur = current.lock().unwrap();
        if given.as_deref() != Some(cur.as_str()) {
            return Reply::status(400, r#"{"error": "invalid_grant"}"#);
        }
        let n = issued.fetch_add(1, Ordering::SeqCst) + 2;
        *cur = format!("rt-{n}");
        Reply::json(
            json!({"access_token": format!("tok-{n}"), "expires_in": "30", "refresh_token": *cur}),
        )
    })
    .await;
    let config = json!({"client_id": "app", "client_secret": "cs-9", "refresh": "rt-1"});
    let ids = run(&api, refresh_grant(), config).await.unwrap();
    assert_eq!(ids, [1, 2, 3]);
    let tokens: Vec<String> = api
        .requests()
        .iter()
        .map(|r| match r.path.as_str() {
            "/oauth/token" => {
                r.form()
                    .into_iter()
                    .find(|(k, _)| k == "refresh_token")
                    .unwrap()
                    .1
            }
            _ => r.header("authorization").unwrap().to_owned(),
        })
        .collect();
    assert_eq!(tokens, ["rt-1", "Bearer tok-2", "rt-2", "Bearer tok-3"]);
}
