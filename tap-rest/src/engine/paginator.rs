//! Walking pages: what the first request needs (a page number, an offset) and which request
//! comes after a page, for each paginator of the vocabulary. Where the first answer tells how
//! many pages there are, the walk has a [`Plan`] of the pages after it, which may be fetched
//! ahead. A request asked twice is an error, not a loop.

use std::collections::HashSet;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::error::Error;
use super::request::{Request, parse_url};
use crate::defs::paging::{CursorInto, PaginatorDef, ValueFrom};

/// What a paginator looks at in one answer.
#[derive(Debug, Clone, Copy)]
pub struct PageView<'a> {
    /// Response headers.
    pub headers: &'a HeaderMap,
    /// The parsed body (`Null` when empty).
    pub body: &'a Value,
    /// How many records the page held.
    pub records: usize,
    /// The `rel="next"` link, if any.
    pub link_next: Option<&'a str>,
}

/// The page walk of one list.
#[derive(Debug)]
pub struct Pager<'d> {
    def: &'d PaginatorDef,
    seen: HashSet<String>,
    page: u64,
    offset: u64,
    /// The pages known after the first answer, and the number of the next one to ask.
    plan: Option<(Plan, u64)>,
}

/// Pages known in advance: `template` with its page parameter set to each number of `pages`.
#[derive(Debug, Clone)]
pub struct Plan {
    template: Request,
    param: String,
    /// The first and last page numbers.
    pub pages: (u64, u64),
}

impl Plan {
    /// The request of page `number`.
    pub fn request(&self, number: u64) -> Result<Request, Error> {
        self.template.with_param(&self.param, &number.to_string())
    }
}

impl<'d> Pager<'d> {
    /// A walk by `def`.
    pub fn new(def: &'d PaginatorDef) -> Pager<'d> {
        let page = match def {
            PaginatorDef::PageNumber { start, .. } => *start,
            _ => 0,
        };
        Pager {
            def,
            seen: HashSet::new(),
            page,
            offset: 0,
            plan: None,
        }
    }

    /// After the first page (`current`, answered by `page`): the pages after it when the answer
    /// tells how many there are. [`Pager::next`] then asks them in order while the list goes on.
    pub fn plan(&mut self, current: &Request, page: PageView<'_>) -> Result<Option<Plan>, Error> {
        let plan = match self.def {
            PaginatorDef::LinkHeader {
                page_param: Some(param),
            } => {
                let last = super::http::link(page.headers, "last");
                let (Some(next), Some(last)) = (page.link_next, last) else {
                    return Ok(None);
                };
                let last = current.at(resolve(&current.url, &last)?);
                let number = |url: &str| {
                    parse_url(url).ok().and_then(|u| {
                        u.query_pairs()
                            .find(|(k, _)| k == param.as_str())
                            .and_then(|(_, v)| v.parse::<u64>().ok())
                    })
                };
                match (number(&resolve(&current.url, next)?), number(&last.url)) {
                    (Some(from), Some(to)) if from <= to => Plan {
                        template: last,
                        param: param.clone(),
                        pages: (from, to),
                    },
                    _ => return Ok(None),
                }
            }
            PaginatorDef::PageNumber {
                param,
                start,
                size,
                total_pages: Some(from),
                stop_on_short,
                ..
            } => {
                let short = *stop_on_short && size.is_some_and(|s| (page.records as u64) < s);
                match number(from, &page) {
                    Some(total) if total > 1 && page.records > 0 && !short => Plan {
                        template: current.clone(),
                        param: param.clone(),
                        pages: (start + 1, start + total - 1),
                    },
                    _ => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        self.plan = Some((plan.clone(), plan.pages.0));
        Ok(Some(plan))
    }

    /// `req` as the first request of the walk (with its page number, size or offset).
    pub fn first(&mut self, req: Request) -> Result<Request, Error> {
        let req = match self.def {
            PaginatorDef::PageNumber {
                param,
                size_param,
                size,
                ..
            } => {
                let mut r = req.with_param(param, &self.page.to_string())?;
                if let (Some(p), Some(s)) = (size_param, size) {
                    r = r.with_param(p, &s.to_string())?;
                }
                r
            }
            PaginatorDef::Offset {
                offset_param,
                limit_param,
                limit,
                ..
            } => req
                .with_param(offset_param, &self.offset.to_string())?
                .with_param(limit_param, &limit.to_string())?,
            _ => req,
        };
        self.seen.insert(req.identity());
        Ok(req)
    }

    /// The request after `current`, whose answer is `page`; `None` at the end.
    pub fn next(
        &mut self,
        stream: &str,
        current: &Request,
        page: PageView<'_>,
    ) -> Result<Option<Request>, Error> {
        let next = match self.def {
            PaginatorDef::None => None,
            // RFC 8288: a link may be relative to the request's URL.
            PaginatorDef::LinkHeader { .. } => match page.link_next {
                Some(u) => Some(current.at(resolve(&current.url, u)?)),
                None => None,
            },
            PaginatorDef::PageNumber {
                param,
                start,
                size,
                total_pages,
                stop_on_short,
                ..
            } => {
                let short = *stop_on_short && size.is_some_and(|s| (page.records as u64) < s);
                let total = total_pages.as_ref().and_then(|f| number(f, &page));
                // Pages read so far, whatever number the first one has.
                let read = self.page.saturating_sub(*start) + 1;
                let past = total.is_some_and(|t| read >= t);
                if page.records == 0 || short || past {
                    None
                } else {
                    self.page += 1;
                    Some(current.with_param(param, &self.page.to_string())?)
                }
            }
            PaginatorDef::Offset {
                offset_param,
                limit,
                total,
                last,
                stop_on_short,
                ..
            } => {
                let total = total.as_ref().and_then(|f| number(f, &page));
                let is_last = last
                    .as_deref()
                    .and_then(|p| page.body.pointer(p))
                    .and_then(Value::as_bool);
                // The offset moves by what the page held: a server may give fewer than the
                // limit asked (a cap of its own). With a total or a last flag, that is not the end.
                let end = self.offset + page.records as u64;
                let done = match (total, is_last) {
                    (Some(t), _) => end >= t,
                    (None, Some(flag)) => flag,
                    (None, None) => *stop_on_short && (page.records as u64) < *limit,
                };
                if page.records == 0 || done {
                    None
                } else {
                    self.offset = end;
                    Some(current.with_param(offset_param, &self.offset.to_string())?)
                }
            }
            PaginatorDef::NextUrl { from } => match text(from, &page) {
                Some(url) => Some(current.at(resolve(&current.url, &url)?)),
                None => None,
            },
            PaginatorDef::Cursor { from, into, last } => {
                let is_last = last
                    .as_deref()
                    .and_then(|p| page.body.pointer(p))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                match (is_last, text(from, &page)) {
                    (true, _) | (_, None) => None,
                    (false, Some(cursor)) => Some(match into {
                        CursorInto::Param(p) => current.with_param(p, &cursor)?,
                        CursorInto::Body(f) => current.with_body_field(f, Value::String(cursor)),
                    }),
                }
            }
        };
        // The list goes on: the next planned page, while there is one (a list that grew goes on
        // past the plan by the paginator's own way).
        let next = match (next, &mut self.plan) {
            (Some(_), Some((plan, number))) if *number <= plan.pages.1 => {
                *number += 1;
                Some(plan.request(*number - 1)?)
            }
            (next, _) => next,
        };
        match next {
            Some(r) if !self.seen.insert(r.identity()) => Err(Error::PaginationLoop {
                stream: stream.to_owned(),
                url: r.url,
            }),
            other => Ok(other),
        }
    }
}

/// A non-empty text value from the body or a header.
fn text(from: &ValueFrom, page: &PageView<'_>) -> Option<String> {
    let v = match from {
        ValueFrom::Pointer(p) => match page.body.pointer(p)? {
            Value::String(s) => s.clone(),
            Value::Null => return None,
            other => other.to_string(),
        },
        ValueFrom::Header(h) => page
            .headers
            .get(h.as_str())?
            .to_str()
            .ok()?
            .trim()
            .to_owned(),
    };
    (!v.is_empty()).then_some(v)
}

/// A number from the body or a header.
fn number(from: &ValueFrom, page: &PageView<'_>) -> Option<u64> {
    match from {
        ValueFrom::Pointer(p) => page.body.pointer(p).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        }),
        ValueFrom::Header(_) => text(from, page)?.parse().ok(),
    }
}

/// `url` resolved against the current request's URL (next URLs may be relative).
fn resolve(current: &str, url: &str) -> Result<String, Error> {
    parse_url(current)?
        .join(url)
        .map(|u| u.to_string())
        .map_err(|e| Error::Setup(format!("next page URL `{url}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view<'a>(h: &'a HeaderMap, body: &'a Value, records: usize) -> PageView<'a> {
        PageView {
            headers: h,
            body,
            records,
            link_next: None,
        }
    }

    fn parse(def: &str) -> PaginatorDef {
        #[derive(serde::Deserialize)]
        struct W {
            p: PaginatorDef,
        }
        toml::from_str::<W>(&format!("p = {def}"))
            .expect("paginator")
            .p
    }

    #[test]
    fn page_numbers_stop_short_or_at_the_total() {
        let def = parse(
            r#"{ kind = "page_number", param = "page", size_param = "size", size = 2, total_pages = { header = "pages-total" } }"#,
        );
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        assert_eq!(first.url, "http://x/a?page=1&size=2");
        let mut h = HeaderMap::new();
        h.insert("pages-total", "2".parse().unwrap());
        let body = Value::Null;
        let second = p.next("s", &first, view(&h, &body, 2)).unwrap().unwrap();
        assert_eq!(second.url, "http://x/a?size=2&page=2");
        assert_eq!(p.next("s", &second, view(&h, &body, 2)).unwrap(), None);
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        assert_eq!(
            p.next("s", &first, view(&HeaderMap::new(), &body, 1))
                .unwrap(),
            None
        );
    }

    #[test]
    fn zero_based_page_numbers_count_pages_read_against_the_total() {
        let def = parse(
            r#"{ kind = "page_number", param = "p", start = 0, total_pages = { pointer = "/pages" } }"#,
        );
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        assert_eq!(first.url, "http://x/a?p=0");
        let (h, body) = (HeaderMap::new(), json!({"pages": 2}));
        let second = p.next("s", &first, view(&h, &body, 3)).unwrap().unwrap();
        assert_eq!(second.url, "http://x/a?p=1");
        assert_eq!(p.next("s", &second, view(&h, &body, 3)).unwrap(), None);
    }

    #[test]
    fn offsets_move_by_what_a_capped_page_held_until_the_total() {
        let def = parse(
            r#"{ kind = "offset", offset_param = "o", limit_param = "l", limit = 5, total = { pointer = "/total" } }"#,
        );
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        let (h, body) = (HeaderMap::new(), json!({"total": 5}));
        let second = p.next("s", &first, view(&h, &body, 3)).unwrap().unwrap();
        assert_eq!(second.url, "http://x/a?l=5&o=3");
        assert_eq!(p.next("s", &second, view(&h, &body, 2)).unwrap(), None);
    }

    #[test]
    fn offsets_advance_by_the_limit_until_the_total() {
        let def = parse(
            r#"{ kind = "offset", offset_param = "startAt", limit_param = "maxResults", limit = 2, total = { pointer = "/total" } }"#,
        );
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        assert_eq!(first.url, "http://x/a?startAt=0&maxResults=2");
        let body = json!({"total": 3});
        let h = HeaderMap::new();
        let second = p.next("s", &first, view(&h, &body, 2)).unwrap().unwrap();
        assert!(second.url.contains("startAt=2"));
        assert_eq!(p.next("s", &second, view(&h, &body, 1)).unwrap(), None);
    }

    #[test]
    fn cursors_go_into_a_parameter_or_the_body_and_stop_when_last() {
        let def = parse(
            r#"{ kind = "cursor", from = { pointer = "/next" }, into = { body = "nextPageToken" }, last = "/isLast" }"#,
        );
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        let h = HeaderMap::new();
        let body = json!({"next": "abc", "isLast": false});
        let second = p.next("s", &first, view(&h, &body, 5)).unwrap().unwrap();
        assert_eq!(second.body, Some(json!({"nextPageToken": "abc"})));
        let body = json!({"next": "abd", "isLast": true});
        assert_eq!(p.next("s", &second, view(&h, &body, 5)).unwrap(), None);

        let def = parse(
            r#"{ kind = "cursor", from = { header = "x-next-page" }, into = { param = "page" } }"#,
        );
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-next-page", "2".parse().unwrap());
        let second = p
            .next("s", &first, view(&h, &Value::Null, 5))
            .unwrap()
            .unwrap();
        assert_eq!(second.url, "http://x/a?page=2");
        h.insert("x-next-page", "".parse().unwrap());
        assert_eq!(
            p.next("s", &second, view(&h, &Value::Null, 5)).unwrap(),
            None
        );
    }

    #[test]
    fn next_urls_resolve_and_loops_are_errors() {
        let def = parse(r#"{ kind = "next_url", from = { pointer = "/links/next" } }"#);
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a/b?page=1".into())).unwrap();
        let h = HeaderMap::new();
        let body = json!({"links": {"next": "/a/b?page=2"}});
        let second = p.next("s", &first, view(&h, &body, 1)).unwrap().unwrap();
        assert_eq!(second.url, "http://x/a/b?page=2");
        let body = json!({"links": {"next": "http://x/a/b?page=1"}});
        assert!(matches!(
            p.next("s", &second, view(&h, &body, 1)),
            Err(Error::PaginationLoop { .. })
        ));
        let body = json!({"links": {"next": null}});
        assert_eq!(p.next("s", &second, view(&h, &body, 1)).unwrap(), None);
    }

    #[test]
    fn link_headers_are_followed_and_none_stops() {
        let links = PaginatorDef::default();
        let mut p = Pager::new(&links);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        let h = HeaderMap::new();
        let mut v = view(&h, &Value::Null, 1);
        v.link_next = Some("http://x/b");
        assert_eq!(
            p.next("s", &first, v).unwrap().map(|r| r.url).as_deref(),
            Some("http://x/b")
        );
        let mut p = Pager::new(&links);
        let first = p.first(Request::get("http://x/a/b?page=1".into())).unwrap();
        v.link_next = Some("/a/b?page=2");
        assert_eq!(
            p.next("s", &first, v).unwrap().map(|r| r.url).as_deref(),
            Some("http://x/a/b?page=2"),
            "a relative link is resolved against the request"
        );
        let mut p = Pager::new(&PaginatorDef::None);
        assert_eq!(p.next("s", &first, v).unwrap(), None);
    }

    #[test]
    fn a_last_link_plans_the_pages_and_a_list_that_grew_goes_on_by_its_links() {
        let def = parse(r#"{ kind = "link_header", page_param = "pg" }"#);
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a?n=5".into())).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            "</a?n=5&pg=2>; rel=\"next\", </a?n=5&pg=3>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        let mut v = view(&h, &Value::Null, 5);
        v.link_next = Some("/a?n=5&pg=2");
        let plan = p.plan(&first, v).unwrap().expect("a plan");
        assert_eq!(plan.pages, (2, 3));
        assert_eq!(plan.request(3).unwrap().url, "http://x/a?n=5&pg=3");
        let second = p.next("s", &first, v).unwrap().unwrap();
        assert_eq!(second.url, "http://x/a?n=5&pg=2");
        v.link_next = Some("http://x/a?n=5&pg=3");
        let third = p.next("s", &second, v).unwrap().unwrap();
        assert_eq!(third.url, "http://x/a?n=5&pg=3");
        v.link_next = Some("http://x/a?n=5&pg=4");
        let fourth = p.next("s", &third, v).unwrap().unwrap();
        assert_eq!(fourth.url, "http://x/a?n=5&pg=4", "past the plan: the link");
        v.link_next = None;
        assert_eq!(p.next("s", &fourth, v).unwrap(), None);

        let no_last = HeaderMap::new();
        let mut v = view(&no_last, &Value::Null, 5);
        v.link_next = Some("/a?pg=2");
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        assert!(p.plan(&first, v).unwrap().is_none(), "no rel=\"last\"");
    }

    #[test]
    fn a_total_of_pages_plans_them_unless_the_first_is_short() {
        let def = parse(
            r#"{ kind = "page_number", param = "p", size = 2, total_pages = { pointer = "/pages" } }"#,
        );
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        let (h, body) = (HeaderMap::new(), json!({"pages": 3}));
        let plan = p.plan(&first, view(&h, &body, 2)).unwrap().expect("a plan");
        assert_eq!(plan.pages, (2, 3));
        let second = p.next("s", &first, view(&h, &body, 2)).unwrap().unwrap();
        assert_eq!(second.url, plan.request(2).unwrap().url);
        let mut p = Pager::new(&def);
        let first = p.first(Request::get("http://x/a".into())).unwrap();
        assert!(p.plan(&first, view(&h, &body, 1)).unwrap().is_none());
    }
}
