//! What every handler reads from a request (its query pairs) and the error body it answers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A request's query pairs, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn new(raw: Option<String>) -> Query {
        let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Query { pairs }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

/// A JSON error body `{key: message}` with `status`.
pub(crate) fn error(status: StatusCode, key: &str, message: &str) -> Response {
    (status, axum::Json(json!({ key: message }))).into_response()
}
