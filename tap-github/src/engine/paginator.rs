//! Pagination: a closed enum, and a cursor whose `advance` refuses to request a URL twice.

use std::collections::HashSet;

use super::definition::Paginator;
use super::error::Error;

/// Walks the pages of one partition.
#[derive(Debug)]
pub struct PageCursor {
    kind: Paginator,
    seen: HashSet<String>,
}

impl PageCursor {
    /// Starts at `first_url`.
    pub fn new(kind: Paginator, first_url: &str) -> Self {
        PageCursor {
            kind,
            seen: HashSet::from([first_url.to_owned()]),
        }
    }

    /// The next URL after a response whose `Link` header named `next`, or `None` at the end.
    /// A URL seen before is an error.
    pub fn advance(&mut self, stream: &str, next: Option<String>) -> Result<Option<String>, Error> {
        let next = match self.kind {
            Paginator::None => None,
            Paginator::LinkHeader => next,
        };
        match next {
            Some(url) if !self.seen.insert(url.clone()) => Err(Error::PaginationLoop {
                stream: stream.to_owned(),
                url,
            }),
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(next: Option<&str>) -> Option<String> {
        next.map(str::to_owned)
    }

    #[test]
    fn follows_then_detects_a_loop() {
        let mut c = PageCursor::new(Paginator::LinkHeader, "http://x/a");
        assert_eq!(
            c.advance("s", resp(Some("http://x/b")))
                .expect("fresh")
                .as_deref(),
            Some("http://x/b")
        );
        assert!(matches!(
            c.advance("s", resp(Some("http://x/a"))),
            Err(Error::PaginationLoop { .. })
        ));
        assert_eq!(c.advance("s", resp(None)).expect("end"), None);
    }

    #[test]
    fn none_stops_after_one_page() {
        let mut c = PageCursor::new(Paginator::None, "http://x/a");
        assert_eq!(c.advance("s", resp(Some("http://x/b"))).expect("end"), None);
    }
}
