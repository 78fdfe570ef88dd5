//! The engine's errors.

/// Why a sync or a discovery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The definitions, a schema or the settings are unusable.
    #[error("{0}")]
    Setup(String),
    /// 401: the credentials were refused.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A rate-limit wait longer than allowed.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// Retries exhausted or an unusable response.
    #[error("{0}")]
    Http(String),
    /// A status mapped to `fail`, or one without an action.
    #[error("stream `{stream}`: {url} answered {status}: {message}")]
    Status {
        /// Stream name.
        stream: String,
        /// Request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// Start of the body.
        message: String,
    },
    /// A body that is not the JSON the definition expects.
    #[error("stream `{stream}`: {url}: {why}")]
    Body {
        /// Stream name.
        stream: String,
        /// Request URL.
        url: String,
        /// What was wrong.
        why: String,
    },
    /// The paginator saw a URL twice.
    #[error("stream `{stream}`: pagination loop: {url} was already requested")]
    PaginationLoop {
        /// Stream name.
        stream: String,
        /// The repeated URL.
        url: String,
    },
    /// A sorted stream's replication key went backwards.
    #[error(
        "stream `{stream}`: records are not sorted on the replication key ({later} after {earlier})"
    )]
    Unsorted {
        /// Stream name.
        stream: String,
        /// The greater value seen first.
        earlier: String,
        /// The smaller value seen after it.
        later: String,
    },
    /// Partitions the user named answered 404 (the others were synced).
    #[error("not found: {}", .0.join(", "))]
    Missing(Vec<String>),
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}
