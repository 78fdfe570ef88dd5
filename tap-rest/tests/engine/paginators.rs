//! Every paginator of the vocabulary on an invented list API: the records equal the server's
//! list, and the requests are exactly the ones the paginator should make, no more.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{Api, Reply, Req, engine, field, schema, sync};

/// A connector with one full-table stream `things` paged by `paginator`; `extra` adds stream
/// keys (records pointer, parameters, method, body).
fn defs(paginator: &str, extra: &str) -> String {
    r#"
[connector]
name = "things"
[settings]
api_url = { type = "string" }
[http]
base_url = "{api_url:raw}"
[[stream]]
name = "things"
path = "/things"
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = PAGINATOR
EXTRA
"#
    .replace("PAGINATOR", paginator)
    .replace("EXTRA", extra)
}

/// Items `from+1 ..= min(from+count, n)`.
fn items(n: usize, from: usize, count: usize) -> Vec<Value> {
    (from + 1..=n.min(from + count))
        .map(|i| json!({"id": i, "name": format!("thing {i}")}))
        .collect()
}

/// Syncs `defs` against `api`; the ids written, in order.
async fn ids(api: &Api, defs: &str) -> Vec<u64> {
    let engine = engine(
        defs,
        &[("things", schema(&[("id", "integer"), ("name", "string")]))],
    );
    let (messages, summary) = sync(
        &engine,
        json!({"api_url": api.url}),
        singer::State::default(),
    )
    .await
    .unwrap();
    let ids: Vec<u64> = field(&messages, "things", "id")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(summary.records["things"], ids.len() as u64);
    ids
}

fn upto(n: u64) -> Vec<u64> {
    (1..=n).collect()
}

/// A page-number API: `pg` (from `start`), `count` items per page (default 2).
fn by_page(n: usize, start: usize, r: &Req) -> Vec<Value> {
    let size = r.q("count").map_or(2, |c| c.parse().unwrap());
    items(n, (r.n("pg") - start) * size, size)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_numbers_stop_on_a_short_page_or_an_empty_one() {
    let api = Api::start(|r| Reply::json(json!(by_page(5, 1, r)))).await;
    let d = defs(
        r#"{ kind = "page_number", param = "pg", size_param = "count", size = 2 }"#,
        "",
    );
    assert_eq!(ids(&api, &d).await, upto(5));
    assert_eq!(
        api.lines(),
        [
            "GET /things?count=2&pg=1",
            "GET /things?count=2&pg=2",
            "GET /things?count=2&pg=3"
        ]
    );

    // A full last page: the next one is empty and ends the list.
    let api = Api::start(|r| Reply::json(json!(by_page(4, 1, r)))).await;
    assert_eq!(ids(&api, &d).await, upto(4));
    assert_eq!(api.lines().len(), 3, "{:?}", api.lines());

    // Without a size a short page says nothing: only an empty page ends the list.
    let api = Api::start(|r| Reply::json(json!(by_page(3, 1, r)))).await;
    let d = defs(r#"{ kind = "page_number", param = "pg" }"#, "");
    assert_eq!(ids(&api, &d).await, upto(3));
    assert_eq!(
        api.lines(),
        ["GET /things?pg=1", "GET /things?pg=2", "GET /things?pg=3"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_numbers_stop_at_a_total_from_a_header_or_the_body() {
    // Two full pages and a header saying there are two: no third request.
    let api = Api::start(|r| Reply::json(json!(by_page(4, 1, r))).header("page-count", 2)).await;
    let d = defs(
        r#"{ kind = "page_number", param = "pg", size_param = "count", size = 2, total_pages = { header = "page-count" } }"#,
        "",
    );
    assert_eq!(ids(&api, &d).await, upto(4));
    // Page 2 is fetched ahead, so page 1 is asked again at the end: its unchanged head proves
    // that no record shifted past a page asked early.
    assert_eq!(
        api.lines(),
        [
            "GET /things?count=2&pg=1",
            "GET /things?count=2&pg=2",
            "GET /things?count=2&pg=1"
        ]
    );

    // Zero-based page numbers: pages 0 and 1 are the two pages.
    let api = Api::start(|r| Reply::json(json!(by_page(4, 0, r))).header("page-count", 2)).await;
    let d = defs(
        r#"{ kind = "page_number", param = "pg", start = 0, size_param = "count", size = 2, total_pages = { header = "page-count" } }"#,
        "",
    );
    assert_eq!(ids(&api, &d).await, upto(4));
    assert_eq!(
        api.lines(),
        [
            "GET /things?count=2&pg=0",
            "GET /things?count=2&pg=1",
            "GET /things?count=2&pg=0"
        ]
    );

    // The total in the body, beside the records.
    let api = Api::start(|r| {
        Reply::json(json!({"results": by_page(6, 1, r), "paging": {"pages": 3, "page": r.n("pg")}}))
    })
    .await;
    let d = defs(
        r#"{ kind = "page_number", param = "pg", size_param = "count", size = 2, total_pages = { pointer = "/paging/pages" } }"#,
        r#"records = "/results""#,
    );
    assert_eq!(ids(&api, &d).await, upto(6));
    // Pages 2 and 3 are known after the first and asked at once, in any order.
    let mut lines = api.lines();
    lines.sort();
    assert_eq!(
        lines,
        [
            "GET /things?count=2&pg=1",
            "GET /things?count=2&pg=1",
            "GET /things?count=2&pg=2",
            "GET /things?count=2&pg=3"
        ]
    );
}

/// An offset API: `skip`, `take` items (at most `cap`), the total in the body and a header.
fn by_offset(n: usize, cap: usize, r: &Req) -> Reply {
    let take = r.n("take").min(cap);
    Reply::json(json!({"rows": items(n, r.n("skip"), take), "total": n})).header("row-total", n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_stop_at_the_total_or_on_a_short_page() {
    for total in [
        r#"total = { pointer = "/total" }"#,
        r#"total = { header = "row-total" }"#,
    ] {
        let api = Api::start(|r| by_offset(4, 100, r)).await;
        let d = defs(
            &format!(
                r#"{{ kind = "offset", offset_param = "skip", limit_param = "take", limit = 2, {total} }}"#
            ),
            r#"records = "/rows""#,
        );
        assert_eq!(ids(&api, &d).await, upto(4));
        assert_eq!(
            api.lines(),
            ["GET /things?skip=0&take=2", "GET /things?skip=2&take=2"],
            "{total}: the total ends the list after a full page"
        );
    }

    // Without a total, a full last page is followed by an empty one.
    let api = Api::start(|r| by_offset(4, 100, r)).await;
    let d = defs(
        r#"{ kind = "offset", offset_param = "skip", limit_param = "take", limit = 2 }"#,
        r#"records = "/rows""#,
    );
    assert_eq!(ids(&api, &d).await, upto(4));
    assert_eq!(
        api.lines(),
        [
            "GET /things?skip=0&take=2",
            "GET /things?skip=2&take=2",
            "GET /things?skip=4&take=2"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_with_a_total_survive_a_server_that_caps_the_limit() {
    // Asked for 3, the server gives at most 2: the pages are short, yet the total says more.
    let api = Api::start(|r| by_offset(5, 2, r)).await;
    let d = defs(
        r#"{ kind = "offset", offset_param = "skip", limit_param = "take", limit = 3, total = { pointer = "/total" } }"#,
        r#"records = "/rows""#,
    );
    assert_eq!(ids(&api, &d).await, upto(5));
    assert_eq!(
        api.lines(),
        [
            "GET /things?skip=0&take=3",
            "GET /things?skip=2&take=3",
            "GET /things?skip=4&take=3"
        ]
    );
}

/// Like [`by_offset`] without a total, with `isLast`; items whose id is a multiple of 3 are
/// left out of a page after it is cut (an API that filters what the caller may not see).
fn by_offset_filtered(n: usize, r: &Req) -> Reply {
    let (skip, take) = (r.n("skip"), r.n("take"));
    let rows: Vec<Value> = items(n, skip, take)
        .into_iter()
        .filter(|v| v["id"].as_u64().is_some_and(|id| id % 3 != 0))
        .collect();
    Reply::json(json!({"rows": rows, "isLast": skip + take >= n}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_with_pages_short_before_the_end_go_on_by_last_or_until_an_empty_page() {
    // The offset moves by what a page held, so an item may be read twice, never skipped.
    let visible: BTreeSet<u64> = (1..=7).filter(|i| i % 3 != 0).collect();
    let api = Api::start(|r| by_offset_filtered(7, r)).await;
    let d = defs(
        r#"{ kind = "offset", offset_param = "skip", limit_param = "take", limit = 3, last = "/isLast" }"#,
        r#"records = "/rows""#,
    );
    assert_eq!(
        ids(&api, &d).await.into_iter().collect::<BTreeSet<_>>(),
        visible
    );
    assert_eq!(
        api.lines(),
        [
            "GET /things?skip=0&take=3",
            "GET /things?skip=2&take=3",
            "GET /things?skip=4&take=3"
        ],
        "short pages go on; `isLast` ends the list"
    );

    let api = Api::start(|r| by_offset_filtered(7, r)).await;
    let d = defs(
        r#"{ kind = "offset", offset_param = "skip", limit_param = "take", limit = 3, stop_on_short = false }"#,
        r#"records = "/rows""#,
    );
    assert_eq!(
        ids(&api, &d).await.into_iter().collect::<BTreeSet<_>>(),
        visible,
        "short pages do not end the list, an empty one does"
    );
    assert_eq!(
        api.lines().last().map(String::as_str),
        Some("GET /things?skip=7&take=3")
    );
}

/// A list paged by `after` (the last id seen), 2 items a page; `next(req, after)` is the next
/// page's URL as the API writes it.
fn by_after(n: usize, r: &Req) -> (Vec<Value>, Option<usize>) {
    let after = r.n("after");
    let page = items(n, after, 2);
    let next = (after + 2 < n).then_some(after + 2);
    (page, next)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_urls_absolute_or_relative_from_the_body_or_a_header() {
    let expected = [
        "GET /things?size=2",
        "GET /things?after=2&size=2",
        "GET /things?after=4&size=2",
    ];
    // Absolute, in the body.
    let api = Api::start(|r| {
        let (page, next) = by_after(5, r);
        let next = next.map(|a| format!("{}/things?after={a}&size=2", r.base));
        Reply::json(json!({"data": page, "links": {"next": next}}))
    })
    .await;
    let d = defs(
        r#"{ kind = "next_url", from = { pointer = "/links/next" } }"#,
        "records = \"/data\"\nparams = { size = \"2\" }",
    );
    assert_eq!(ids(&api, &d).await, upto(5));
    assert_eq!(api.lines(), expected);

    // Relative to the request, in the body (an empty string ends the list).
    let api = Api::start(|r| {
        let (page, next) = by_after(5, r);
        let next = next.map_or(String::new(), |a| format!("/things?after={a}&size=2"));
        Reply::json(json!({"data": page, "links": {"next": next}}))
    })
    .await;
    assert_eq!(ids(&api, &d).await, upto(5));
    assert_eq!(api.lines(), expected);

    // A query-only reference in a header.
    let api = Api::start(|r| {
        let (page, next) = by_after(5, r);
        let reply = Reply::json(json!(page));
        match next {
            Some(a) => reply.header("next-page", format!("?after={a}&size=2")),
            None => reply,
        }
    })
    .await;
    let d = defs(
        r#"{ kind = "next_url", from = { header = "next-page" } }"#,
        "params = { size = \"2\" }",
    );
    assert_eq!(ids(&api, &d).await, upto(5));
    assert_eq!(api.lines(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_from_the_body_or_a_header_into_a_parameter() {
    // Cursor `c<after>` in the body, `null` on the last page.
    let api = Api::start(|r| {
        let after = r.q("cursor").map_or(0, |c| c[1..].parse().unwrap());
        let page = items(5, after, 2);
        let next = (after + 2 < 5).then(|| format!("c{}", after + 2));
        Reply::json(json!({"entries": page, "meta": {"cursor": next}}))
    })
    .await;
    let d = defs(
        r#"{ kind = "cursor", from = { pointer = "/meta/cursor" }, into = { param = "cursor" } }"#,
        "records = \"/entries\"\nparams = { size = \"2\" }",
    );
    assert_eq!(ids(&api, &d).await, upto(5));
    assert_eq!(
        api.lines(),
        [
            "GET /things?size=2",
            "GET /things?cursor=c2&size=2",
            "GET /things?cursor=c4&size=2"
        ]
    );

    // Cursor in a header; none on the last page.
    let api = Api::start(|r| {
        let after = r.n("from");
        let reply = Reply::json(json!(items(4, after, 2)));
        if after + 2 < 4 {
            reply.header("resume-token", after + 2)
        } else {
            reply
        }
    })
    .await;
    let d = defs(
        r#"{ kind = "cursor", from = { header = "resume-token" }, into = { param = "from" } }"#,
        "",
    );
    assert_eq!(ids(&api, &d).await, upto(4));
    assert_eq!(api.lines(), ["GET /things", "GET /things?from=2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_goes_into_a_post_body_and_a_last_flag_ends_the_list() {
    // The API always sends a cursor; `done` says the page is the last.
    let api = Api::start(|r| {
        let body = r.json();
        let after: usize = body["resume"].as_str().map_or(0, |c| c.parse().unwrap());
        let size = body["size"].as_u64().unwrap() as usize;
        Reply::json(json!({
            "hits": items(5, after, size),
            "resume": (after + size).to_string(),
            "done": after + size >= 5,
        }))
    })
    .await;
    let d = defs(
        r#"{ kind = "cursor", from = { pointer = "/resume" }, into = { body = "resume" }, last = "/done" }"#,
        "method = \"POST\"\nrecords = \"/hits\"\nbody = { size = 2, filter = { kind = \"all\" } }",
    );
    assert_eq!(ids(&api, &d).await, upto(5));
    let sent: Vec<(String, Value)> = api
        .requests()
        .iter()
        .map(|r| (r.line(), r.json()))
        .collect();
    let body = |resume: Option<&str>| {
        let mut b = json!({"size": 2, "filter": {"kind": "all"}});
        if let Some(c) = resume {
            b["resume"] = json!(c);
        }
        b
    };
    assert_eq!(
        sent,
        [
            ("POST /things".to_owned(), body(None)),
            ("POST /things".to_owned(), body(Some("2"))),
            ("POST /things".to_owned(), body(Some("4"))),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_that_comes_back_is_a_loop_not_an_endless_walk() {
    let api =
        Api::start(|r| Reply::json(json!({"entries": items(9, r.n("at"), 2), "next": 2}))).await;
    let d = defs(
        r#"{ kind = "cursor", from = { pointer = "/next" }, into = { param = "at" } }"#,
        "records = \"/entries\"",
    );
    let engine = engine(
        &d,
        &[("things", schema(&[("id", "integer"), ("name", "string")]))],
    );
    let err = sync(
        &engine,
        json!({"api_url": api.url}),
        singer::State::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("pagination loop"), "{err}");
    assert_eq!(api.lines(), ["GET /things", "GET /things?at=2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_headers_absolute_or_relative() {
    for absolute in [true, false] {
        let api = Api::start(move |r| {
            let (page, next) = by_after(5, r);
            let base = if absolute { r.base.as_str() } else { "" };
            let mut links = vec![format!("<{base}/things?after=0>; rel=\"first\"")];
            if let Some(a) = next {
                links.push(format!("<{base}/things?after={a}&size=2>; rel=\"next\""));
            }
            links.push(format!("<{base}/things?after=4>; rel=\"last\""));
            Reply::json(json!(page)).header("link", links.join(", "))
        })
        .await;
        let d = defs(r#"{ kind = "link_header" }"#, "params = { size = \"2\" }");
        assert_eq!(ids(&api, &d).await, upto(5), "absolute: {absolute}");
        assert_eq!(
            api.lines(),
            [
                "GET /things?size=2",
                "GET /things?after=2&size=2",
                "GET /things?after=4&size=2",
            ],
            "absolute: {absolute}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_makes_one_request_and_a_body_can_be_the_record() {
    // The answer offers a next page every way it can; `none` asks nothing more.
    let api = Api::start(|r| {
        Reply::json(json!({"id": 7, "name": "the only one", "next": "/things?after=7"}))
            .header("link", format!("<{}/things?after=7>; rel=\"next\"", r.base))
    })
    .await;
    let d = defs(r#"{ kind = "none" }"#, "");
    assert_eq!(ids(&api, &d).await, [7]);
    assert_eq!(api.lines(), ["GET /things"]);
}
