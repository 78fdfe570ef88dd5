//! How the pages of a list follow each other: a closed set of paginators. Where the first answer
//! tells how many pages there are (a `rel="last"` link with a page number, a total in the body
//! or a header), the pages are known in advance and may be fetched in parallel.

use serde::Deserialize;

use super::stream::{Order, Replication, StreamDef};

/// A paginator.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum PaginatorDef {
    /// `Link: <url>; rel="next"`, followed as it is. With `page_param`, the first page's
    /// `rel="last"` link numbers the last page, and the pages up to it are known in advance.
    LinkHeader {
        /// The query parameter of the `rel="last"` URL that holds the page number, e.g. `page`.
        #[serde(default)]
        page_param: Option<String>,
    },
    /// One request only.
    None,
    /// A page-number parameter: stops on an empty page, on a page shorter than `size` when
    /// `stop_on_short`, or after the total number of pages when `total_pages` says it.
    PageNumber {
        /// The page parameter, e.g. `page`.
        param: String,
        /// The first page's number.
        #[serde(default = "one")]
        start: u64,
        /// The page-size parameter and its value, if the API takes one.
        #[serde(default)]
        size_param: Option<String>,
        /// Items per page.
        #[serde(default)]
        size: Option<u64>,
        /// Where the number of pages is given.
        #[serde(default)]
        total_pages: Option<ValueFrom>,
        /// A page with fewer than `size` items is the last.
        #[serde(default = "yes")]
        stop_on_short: bool,
    },
    /// An offset and a limit: the offset moves by the number of items each page holds; the
    /// list ends on an empty page, at the total when one is given (a server may cap the limit,
    /// so a short page is not the end), when `last` is true, else on a page shorter than the
    /// limit unless `stop_on_short` is false.
    Offset {
        /// The offset parameter, e.g. `startAt`.
        offset_param: String,
        /// The limit parameter, e.g. `maxResults`.
        limit_param: String,
        /// Items per page.
        limit: u64,
        /// Where the total number of items is given.
        #[serde(default)]
        total: Option<ValueFrom>,
        /// A body field that is `true` on the last page (e.g. `/isLast`).
        #[serde(default)]
        last: Option<String>,
        /// Without a total or `last`, a page shorter than the limit is the last; false when the
        /// API may leave items out of a page (filtered after it was cut): only an empty page ends.
        #[serde(default = "yes")]
        stop_on_short: bool,
    },
    /// The next page's URL is in the body or a header; none (or empty) ends the list.
    NextUrl {
        /// Where the URL is.
        from: ValueFrom,
    },
    /// An opaque cursor from the body or a header, sent back as a parameter or a body field;
    /// none (or empty) ends the list, as does `last` when it is true.
    Cursor {
        /// Where the cursor is.
        from: ValueFrom,
        /// Where it goes in the next request.
        into: CursorInto,
        /// A body field that is `true` on the last page (e.g. `/isLast`).
        #[serde(default)]
        last: Option<String>,
    },
}

/// Where a value is read from a response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum ValueFrom {
    /// A JSON pointer into the body.
    Pointer(String),
    /// A response header.
    Header(String),
}

/// Where a cursor goes in the next request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum CursorInto {
    /// A query parameter.
    Param(String),
    /// A top-level field of the JSON body.
    Body(String),
}

impl Default for PaginatorDef {
    fn default() -> Self {
        PaginatorDef::LinkHeader { page_param: None }
    }
}

fn one() -> u64 {
    1
}

fn yes() -> bool {
    true
}

impl PaginatorDef {
    /// JSON pointers the paginator reads (for the load-time check).
    pub fn pointers(&self) -> Vec<&str> {
        let (from, last) = match self {
            PaginatorDef::PageNumber { total_pages, .. } => (total_pages.as_ref(), None),
            PaginatorDef::Offset { total, last, .. } => (total.as_ref(), last.as_deref()),
            PaginatorDef::NextUrl { from } => (Some(from), None),
            PaginatorDef::Cursor { from, last, .. } => (Some(from), last.as_deref()),
            PaginatorDef::LinkHeader { .. } | PaginatorDef::None => (None, None),
        };
        let from = match from {
            Some(ValueFrom::Pointer(p)) => Some(p.as_str()),
            _ => None,
        };
        from.into_iter().chain(last).collect()
    }

    /// What cannot work in this paginator for a request of method POST (`post`) or GET, as
    /// (key under the paginator, message).
    pub fn problems(&self, post: bool) -> Vec<(&'static str, String)> {
        match self {
            PaginatorDef::PageNumber {
                size_param: Some(_),
                size: None,
                ..
            } => vec![("size_param", "needs `size`, the value to send".into())],
            PaginatorDef::Cursor {
                into: CursorInto::Body(_),
                ..
            } if !post => vec![(
                "into",
                "a cursor into the body needs method = \"POST\"".into(),
            )],
            _ => vec![],
        }
    }

    /// Why the pages are walked one after the other, or `None` when the first answer can tell
    /// how many there are (then pages 2..N are fetched in parallel).
    pub fn sequential(&self) -> Option<&'static str> {
        match self {
            PaginatorDef::None => Some("one request"),
            PaginatorDef::Cursor { .. } | PaginatorDef::NextUrl { .. } => {
                Some("each page's cursor comes with the page before")
            }
            PaginatorDef::LinkHeader { page_param: None } => {
                Some("each page's link comes with the page before")
            }
            PaginatorDef::PageNumber {
                total_pages: None, ..
            } => Some("the number of pages is not given"),
            PaginatorDef::Offset { .. } => Some("an offset moves by what the page before held"),
            PaginatorDef::LinkHeader {
                page_param: Some(_),
            }
            | PaginatorDef::PageNumber {
                total_pages: Some(_),
                ..
            } => None,
        }
    }

    /// How the pages are fetched, for `--about`.
    pub fn describe(&self) -> String {
        match (self.sequential(), self) {
            (Some(why), _) => format!("sequential: {why}"),
            (None, PaginatorDef::LinkHeader { .. }) => "in parallel when the first page's rel=\"last\" link numbers the last page; else sequential".into(),
            (None, _) => "in parallel up to the number of pages the first answer gives; else sequential".into(),
        }
    }
}

/// How the pages of stream `def` are fetched, for `--about`: its paginator's way, unless its
/// replication mode needs each page before asking for the next.
pub fn describe_stream(def: &StreamDef) -> String {
    let by_paginator = def.paginator.describe();
    match &def.replication {
        Replication::SinceParam {
            order: Order::Ascending,
            reanchor: true,
            ..
        } => "sequential: each page is asked from the last value the page before ended on".into(),
        _ if def.paginator.sequential().is_some() => by_paginator,
        Replication::EarlyStop { .. } => format!(
            "{by_paginator}; sequential on a run with a bookmark or a start date (it stops at the first older record)"
        ),
        _ => by_paginator,
    }
}
