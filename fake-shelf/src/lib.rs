//! A tiny book catalog served over HTTP, in the shape of the list APIs most SaaS products
//! publish: a bearer token, lists under a named key with a `next_page` URL (null on the last
//! page) and a `count`, an `updated_since` filter on a list sorted by update time, one child
//! list per item, and an edit endpoint that moves an item's `updated_at` to now.
//!
//! Routes (all under `/api/v2`, all needing `Authorization: Bearer TOKEN`):
//! - `GET /books?updated_since=&per_page=&page=`: `{"books": [...], "next_page", "count"}`.
//! - `GET /books/{id}/reviews?per_page=&page=`: `{"reviews": [...], "next_page", "count"}`.
//! - `PATCH /books/{id}` with a JSON object: sets the given fields and `updated_at`.
//! - `GET /drafts`: always 403 (a list this token may not read).
//!
//! Errors are `{"error": {"status", "message"}}`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fake_serve::{Listen, Server};
use serde_json::{Map, Value, json};

/// The token the fake accepts unless told otherwise.
pub const DEFAULT_TOKEN: &str = "shelf-demo-token";

/// The catalog: books in id order and reviews by book id.
#[derive(Debug, Clone)]
pub struct Shelf {
    books: Vec<Map<String, Value>>,
    reviews: BTreeMap<u64, Vec<Value>>,
}

const TITLES: [(&str, &str, u32); 12] = [
    ("Dune", "Frank Herbert", 1965),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", 1969),
    ("Neuromancer", "William Gibson", 1984),
    ("Hyperion", "Dan Simmons", 1989),
    ("The Dispossessed", "Ursula K. Le Guin", 1974),
    ("Foundation", "Isaac Asimov", 1951),
    ("Kindred", "Octavia E. Butler", 1979),
    ("Solaris", "Stanisław Lem", 1961),
    ("The Fifth Season", "N. K. Jemisin", 2015),
    ("Snow Crash", "Neal Stephenson", 1992),
    ("Ancillary Justice", "Ann Leckie", 2013),
    ("Piranesi", "Susanna Clarke", 2020),
];

impl Default for Shelf {
    fn default() -> Self {
        let mut books = Vec::new();
        let mut reviews = BTreeMap::new();
        let mut review_id = 100;
        for (i, (title, author, year)) in TITLES.iter().enumerate() {
            let id = i as u64 + 1;
            let day = i + 1;
            let book = json!({
                "id": id,
                "title": title,
                "author": author,
                "published_year": year,
                "shelf": if i % 3 == 0 { "read" } else { "to-read" },
                "created_at": format!("2024-01-{day:02}T09:00:00Z"),
                "updated_at": format!("2024-02-{day:02}T12:30:00Z"),
            });
            if let Value::Object(m) = book {
                books.push(m);
            }
            let list: Vec<Value> = (0..(2 - i % 3))
                .map(|n| {
                    review_id += 1;
                    json!({
                        "id": review_id,
                        "book_id": id,
                        "rating": 3 + ((i + n) % 3),
                        "text": format!("Review {} of {title}.", n + 1),
                        "created_at": format!("2024-03-{day:02}T1{n}:00:00Z"),
                    })
                })
                .collect();
            reviews.insert(id, list);
        }
        Shelf { books, reviews }
    }
}

impl Shelf {
    /// How many books and reviews the catalog holds.
    pub fn counts(&self) -> (usize, usize) {
        (self.books.len(), self.reviews.values().map(Vec::len).sum())
    }
}

#[derive(Debug)]
struct App {
    shelf: Mutex<Shelf>,
    token: String,
}

type Shared = Arc<App>;

/// The routes, over `shelf`, accepting `token`.
pub fn app(shelf: Shelf, token: &str) -> Router {
    let state = Arc::new(App {
        shelf: Mutex::new(shelf),
        token: token.to_owned(),
    });
    Router::new()
        .route("/api/v2/books", get(books))
        .route("/api/v2/books/{id}", axum::routing::patch(edit))
        .route("/api/v2/books/{id}/reviews", get(reviews))
        .route("/api/v2/drafts", get(drafts))
        .fallback(not_found)
        .with_state(state)
}

/// A fake running on a loopback port in its own thread; it stops when the last clone is
/// dropped.
#[derive(Debug, Clone)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    server: Arc<Server>,
}

impl Running {
    /// The API base URL, `http://127.0.0.1:PORT/api/v2`.
    pub fn api_url(&self) -> String {
        format!("{}/api/v2", self.server.url())
    }

    /// The server, for [`fake_serve::announce`].
    pub fn server(&self) -> &Server {
        &self.server
    }
}

/// Serves the default catalog with `token` on 127.0.0.1:`port` (0: any free port) in a thread
/// of its own.
pub fn start_on(port: u16, token: &str) -> std::io::Result<Running> {
    let router = app(Shelf::default(), token);
    let server = Server::start(
        &Listen {
            port,
            ..Listen::default()
        },
        |_| router.clone(),
    )?;
    Ok(Running {
        addr: server.addr(),
        server: Arc::new(server),
    })
}

/// Starts the fake on a free port in a thread of its own, for tests.
pub fn spawn(token: &str) -> anyhow::Result<Running> {
    Ok(start_on(0, token)?)
}

/// An error answer: `{"error": {"status", "message"}}`.
#[derive(Debug)]
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal(status, message) = self;
        (
            status,
            axum::Json(json!({"error": {"status": status.as_u16(), "message": message}})),
        )
            .into_response()
    }
}

fn error(status: StatusCode, message: &str) -> Refusal {
    Refusal(status, message.to_owned())
}

fn poisoned<T>(_: T) -> Refusal {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the catalog's lock is poisoned",
    )
}

fn authorized(app: &App, headers: &HeaderMap) -> Result<(), Refusal> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(t) if t == app.token => Ok(()),
        Some(_) => Err(error(StatusCode::UNAUTHORIZED, "invalid access token")),
        None => Err(error(
            StatusCode::UNAUTHORIZED,
            "missing access token (Authorization: Bearer TOKEN)",
        )),
    }
}

/// `per_page` (1..=100, default 10) and `page` (from 1).
fn paging(q: &BTreeMap<String, String>) -> Result<(usize, usize), Refusal> {
    let number = |k: &str, default: usize| match q.get(k) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                &format!("`{k}` must be a positive whole number"),
            )
        }),
    };
    Ok((number("per_page", 10)?.min(100), number("page", 1)?))
}

/// One page of `items` under `key`, with the URL of the next page.
fn page(
    headers: &HeaderMap,
    path: &str,
    q: &BTreeMap<String, String>,
    key: &str,
    items: Vec<Value>,
) -> Result<Response, Refusal> {
    let (per_page, number) = paging(q)?;
    let count = items.len();
    let start = (number - 1) * per_page;
    let slice: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
    let next = (start + per_page < count).then(|| {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let mut query: BTreeMap<&str, String> =
            q.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        query.insert("page", (number + 1).to_string());
        query.insert("per_page", per_page.to_string());
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("http://{host}{path}?{}", encoded.join("&"))
    });
    Ok(axum::Json(json!({key: slice, "next_page": next, "count": count})).into_response())
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn books(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, Refusal> {
    authorized(&app, &headers)?;
    let since = match q.get("updated_since") {
        None => None,
        Some(s) => Some(s.parse::<jiff::Timestamp>().map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "`updated_since` must be an RFC 3339 timestamp",
            )
        })?),
    };
    let shelf = app.shelf.lock().map_err(poisoned)?;
    let mut list: Vec<(jiff::Timestamp, u64, Value)> = shelf
        .books
        .iter()
        .filter_map(|b| {
            let at = b
                .get("updated_at")?
                .as_str()?
                .parse::<jiff::Timestamp>()
                .ok()?;
            let id = b.get("id")?.as_u64()?;
            Some((at, id, Value::Object(b.clone())))
        })
        .filter(|(at, ..)| since.is_none_or(|s| *at >= s))
        .collect();
    list.sort_by_key(|a| (a.0, a.1));
    let items = list.into_iter().map(|(.., v)| v).collect();
    page(&headers, "/api/v2/books", &q, "books", items)
}

async fn reviews(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, Refusal> {
    authorized(&app, &headers)?;
    let shelf = app.shelf.lock().map_err(poisoned)?;
    let items = id
        .parse::<u64>()
        .ok()
        .and_then(|id| shelf.reviews.get(&id))
        .cloned()
        .ok_or_else(|| error(StatusCode::NOT_FOUND, &format!("no book {id}")))?;
    page(
        &headers,
        &format!("/api/v2/books/{id}/reviews"),
        &q,
        "reviews",
        items,
    )
}

async fn edit(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, Refusal> {
    authorized(&app, &headers)?;
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        ));
    };
    let mut shelf = app.shelf.lock().map_err(poisoned)?;
    let book = shelf
        .books
        .iter_mut()
        .find(|b| b.get("id").and_then(Value::as_u64).map(|n| n.to_string()) == Some(id.clone()))
        .ok_or_else(|| error(StatusCode::NOT_FOUND, &format!("no book {id}")))?;
    for (k, v) in fields {
        if k != "id" && k != "created_at" && k != "updated_at" {
            book.insert(k, v);
        }
    }
    let now = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now());
    book.insert("updated_at".into(), Value::from(now.to_string()));
    Ok(axum::Json(Value::Object(book.clone())).into_response())
}

async fn drafts(State(app): State<Shared>, headers: HeaderMap) -> Refusal {
    match authorized(&app, &headers) {
        Err(e) => e,
        Ok(()) => error(StatusCode::FORBIDDEN, "this token may not read drafts"),
    }
}

async fn not_found() -> Refusal {
    error(StatusCode::NOT_FOUND, "no such route")
}
