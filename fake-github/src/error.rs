//! The library's error type.

/// An error from building or driving a fake GitHub.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A repository name is not `owner/name` with GitHub's allowed characters.
    #[error("invalid repository name {0:?}: expected owner/name")]
    InvalidRepoName(String),
    /// The same repository was declared twice.
    #[error("repository {0} declared twice")]
    DuplicateRepo(String),
    /// No such repository in this world.
    #[error("unknown repository {0}")]
    UnknownRepo(String),
    /// A `--faults` string could not be parsed.
    #[error("invalid fault spec {spec:?}: {reason}")]
    InvalidFaultSpec {
        /// The offending part of the spec.
        spec: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An issue cursor mode other than `keyset` or `offset`.
    #[error("invalid issue cursor {0:?}: expected keyset or offset")]
    InvalidIssueCursor(String),
    /// A `--repos` entry could not be parsed.
    #[error("invalid repo spec {0:?}: expected owner/name:COMMITS:ISSUES")]
    InvalidRepoSpec(String),
    /// Binding or serving the socket failed.
    #[error("server I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error { kind }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error {
            kind: ErrorKind::Io(e),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
