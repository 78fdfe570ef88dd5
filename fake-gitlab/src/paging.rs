//! GitLab's two ways of paging a list: offset (`page`, `per_page`, the `X-*` headers and a
//! `Link` header) and keyset (`pagination=keyset&order_by=id`, the next page only through
//! `Link: <…id_after=N…>; rel="next"`).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::request::{Query, error};

/// Above this many items GitLab leaves out `X-Total`, `X-Total-Pages` and `rel="last"`.
const COUNT_LIMIT: usize = 10_000;

/// The URL of a page: the request's own path and query with some parameters replaced.
fn url(base: &str, path: &str, q: &Query, set: &[(&str, String)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &q.pairs {
        if k == "private_token" || set.iter().any(|(s, _)| s == k) {
            continue;
        }
        out.append_pair(k, v);
    }
    for (k, v) in set {
        out.append_pair(k, v);
    }
    format!("{base}{path}?{}", out.finish())
}

fn header(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// One page of `items` as the request asks for it. `keyset_ok`: the list offers keyset paging.
pub(crate) fn page(
    items: Vec<Value>,
    q: &Query,
    base: &str,
    path: &str,
    keyset_ok: bool,
) -> Response {
    let per_page = q
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20)
        .min(100);
    if q.get("pagination") == Some("keyset") {
        if !keyset_ok || q.get("order_by") != Some("id") {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "error",
                "Keyset pagination is not yet available for this type of request",
            );
        }
        return keyset(items, q, base, path, per_page);
    }
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let n = q
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let body: Vec<Value> = items
        .into_iter()
        .skip((n - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let counted = total <= COUNT_LIMIT;
    let has_next = n < pages;
    let mut h = HeaderMap::new();
    header(&mut h, "x-page", &n.to_string());
    header(&mut h, "x-per-page", &per_page.to_string());
    header(
        &mut h,
        "x-next-page",
        &if has_next {
            (n + 1).to_string()
        } else {
            String::new()
        },
    );
    header(
        &mut h,
        "x-prev-page",
        &if n > 1 {
            (n - 1).to_string()
        } else {
            String::new()
        },
    );
    if counted {
        header(&mut h, "x-total", &total.to_string());
        header(&mut h, "x-total-pages", &pages.to_string());
    }
    let link = |p: usize, rel: &str| {
        format!(
            "<{}>; rel=\"{rel}\"",
            url(
                base,
                path,
                q,
                &[("page", p.to_string()), ("per_page", per_page.to_string())]
            )
        )
    };
    let mut links = vec![];
    if n > 1 {
        links.push(link(n - 1, "prev"));
    }
    if has_next {
        links.push(link(n + 1, "next"));
    }
    links.push(link(1, "first"));
    if counted {
        links.push(link(pages, "last"));
    }
    header(&mut h, "link", &links.join(", "));
    (StatusCode::OK, h, axum::Json(Value::Array(body))).into_response()
}

fn keyset(mut items: Vec<Value>, q: &Query, base: &str, path: &str, per_page: usize) -> Response {
    let id = |v: &Value| v["id"].as_u64().unwrap_or(0);
    let desc = q.get("sort") == Some("desc");
    items.sort_by_key(id);
    if desc {
        items.reverse();
    }
    let after = q.get("id_after").and_then(|v| v.parse::<u64>().ok());
    let before = q.get("id_before").and_then(|v| v.parse::<u64>().ok());
    let mut rest: Vec<Value> = items
        .into_iter()
        .filter(|v| after.is_none_or(|a| id(v) > a) && before.is_none_or(|b| id(v) < b))
        .collect();
    let more = rest.len() > per_page;
    rest.truncate(per_page);
    let mut h = HeaderMap::new();
    header(&mut h, "x-per-page", &per_page.to_string());
    if more && let Some(last) = rest.last() {
        let (k, drop) = if desc {
            ("id_before", "id_after")
        } else {
            ("id_after", "id_before")
        };
        let mut q2 = q.clone();
        q2.pairs.retain(|(name, _)| name != drop);
        let next = url(
            base,
            path,
            &q2,
            &[
                (k, id(last).to_string()),
                ("per_page", per_page.to_string()),
            ],
        );
        header(&mut h, "link", &format!("<{next}>; rel=\"next\""));
    }
    (StatusCode::OK, h, axum::Json(Value::Array(rest))).into_response()
}
