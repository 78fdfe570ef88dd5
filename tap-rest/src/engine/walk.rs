//! The page walk of one job: fetch a page, shape its records, emit them (and read their
//! children) and decide the next request: the paginator's, or, for re-anchored ascending lists,
//! the first request again from the last value seen. Pages the first answer numbers are fetched
//! ahead and taken in order. A page holding one value only is paged by the paginator within
//! that value; a change inside such a group is noticed when one of its records shows up later
//! with a newer value, and the group is read again.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value;

use super::bookmarks::{self, Mark, compare};
use super::error::Error;
use super::http::Response;
use super::job::Job;
use super::paginator::{PageView, Pager};
use super::prefetch::Prefetch;
use super::records;
use super::request::Request;
use crate::defs::StatusAction;

/// Passes over a group of records sharing one replication-key value before giving up, when
/// they keep changing while the group is paged.
const MAX_REWALKS: u32 = 3;

/// One page as the walk uses it.
pub struct Page {
    pub records: Vec<Value>,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub next: Option<String>,
    pub etag: Option<String>,
}

/// What one request gave.
pub enum Fetched {
    NotModified,
    /// The status maps to `skip_partition`.
    Skip,
    /// A lenient request got a status it does not handle.
    Refused(u16),
    Page(Page),
}

/// How a walk goes.
pub struct Walk<'x> {
    pub first: Request,
    pub conditional: Option<&'x str>,
    /// JSON pointer of the records in each body.
    pub records: &'x str,
    /// Records whose replication key is below this are dropped…
    pub floor: Option<Value>,
    /// …and the walk stops at the first one (newest-first lists).
    pub stop_at_floor: bool,
    /// Ascending lists: sorted, bookmarked page by page, maybe re-anchored.
    pub ascending: Option<Ascending<'x>>,
    /// On the first page: the body's value at this pointer must be one of these, else the walk
    /// is refused (a comparison whose base is not an ancestor).
    pub gate: Option<(&'x str, &'x [String])>,
    /// Statuses the client does not handle refuse the walk instead of applying `on_status`.
    pub lenient: bool,
}

impl<'x> Walk<'x> {
    /// A walk that follows the paginator from `first`.
    pub fn plain(first: Request, records: &'x str) -> Walk<'x> {
        Walk {
            first,
            conditional: None,
            records,
            floor: None,
            stop_at_floor: false,
            ascending: None,
            gate: None,
            lenient: false,
        }
    }
}

/// An ascending list.
pub struct Ascending<'x> {
    /// The parameter each next page is anchored on (none: follow the paginator).
    pub param: Option<&'x str>,
    /// The stored bookmark, the lowest value any mid-partition bookmark may take.
    pub prior: Option<Value>,
}

/// How a walk ended.
#[derive(Default)]
pub struct Walked {
    pub not_modified: bool,
    pub skipped: bool,
    pub refused: Option<String>,
    pub first_etag: Option<String>,
    pub first_had_next: bool,
    pub max_seen: Option<Value>,
}

/// Records sharing one replication-key value that filled a page, paged by the paginator
/// because re-anchoring on their value cannot move on.
struct Tie {
    value: Value,
    keys: HashSet<String>,
}

impl Job<'_> {
    /// Walks the pages from `w.first`, emitting records page by page.
    pub async fn walk(&mut self, w: Walk<'_>) -> Result<Walked, Error> {
        let mut out = Walked::default();
        let mut pager = Pager::new(&self.def.paginator);
        let first = pager.first(w.first.clone())?;
        let mut req = first.clone();
        let mut is_first = true;
        // Re-anchoring: the value the current request starts from, the keys already emitted at
        // it, the groups paged by the paginator, and how often a disturbed group was read again.
        let mut anchor: Option<Value> = None;
        let mut boundary: HashSet<String> = HashSet::new();
        let mut ties: Vec<Tie> = Vec::new();
        let mut disturbed: Option<Value> = None;
        let mut rewalks = 0u32;
        let mut last: Option<Value> = None;
        let pipeline = &self.planned.pipeline;
        // Pages known after the first are fetched ahead, unless each page needs the one
        // before (re-anchoring) or the walk may stop early.
        let mut ahead = w.ascending.as_ref().is_none_or(|a| a.param.is_none())
            && !(w.stop_at_floor && w.floor.is_some());
        let mut prefetch: Option<Prefetch> = None;
        // The first record when pages were fetched ahead: a list that changed at its head
        // meanwhile may have shifted a record past a page asked before it moved.
        let mut head_ahead: Option<Value> = None;
        loop {
            let conditional = if is_first { w.conditional } else { None };
            let fetched = match prefetch.as_mut() {
                Some(p) => p.take(&req).await,
                None => None,
            };
            let fetched = match fetched {
                Some(resp) => self.classify(&req, resp?, w.records, w.lenient)?,
                None => self.fetch(&req, conditional, w.records, w.lenient).await?,
            };
            let page = match fetched {
                Fetched::NotModified => {
                    out.not_modified = true;
                    return Ok(out);
                }
                Fetched::Skip => {
                    out.skipped = true;
                    return Ok(out);
                }
                Fetched::Refused(status) => {
                    out.refused = Some(format!("{} answered {status}", req.url));
                    return Ok(out);
                }
                Fetched::Page(page) => page,
            };
            if is_first {
                if let Some((pointer, accepted)) = w.gate {
                    let status = page.body.pointer(pointer).and_then(Value::as_str);
                    if !status.is_some_and(|s| accepted.iter().any(|a| a == s)) {
                        out.refused = Some(format!("status {}", status.unwrap_or("missing")));
                        return Ok(out);
                    }
                }
                out.first_etag = page.etag.clone();
            }
            let first_page = std::mem::replace(&mut is_first, false);
            if first_page && ahead {
                // Started before this page's records and children are written.
                let view = PageView {
                    headers: &page.headers,
                    body: &page.body,
                    records: page.records.len(),
                    link_next: page.next.as_deref(),
                };
                if let Some(plan) = pager.plan(&req, view)? {
                    head_ahead = Some(page.records.first().cloned().unwrap_or(Value::Null));
                    prefetch = Some(Prefetch::start(
                        self.sh.client.clone(),
                        self.def.path.source(),
                        self.retry_statuses(),
                        plan,
                        self.sh.client.max_in_flight(),
                    )?);
                }
            }

            let count = page.records.len();
            let mut stop = false;
            let mut rows = Vec::with_capacity(count);
            let mut kept = Vec::new();
            // The page's last replication-key value and the keys of its records at that value.
            let mut page_last: Option<Value> = None;
            let mut at_last: Vec<String> = Vec::new();
            for record in page.records {
                if !pipeline.keeps(&record) {
                    continue;
                }
                let v = self
                    .def
                    .replication_key()
                    .and_then(|k| record.pointer(k))
                    .cloned();
                if let (Some(floor), Some(v)) = (&w.floor, &v)
                    && compare(v, floor) == Ordering::Less
                {
                    if w.stop_at_floor {
                        stop = true;
                        break;
                    }
                    continue;
                }
                if w.ascending.is_some()
                    && let (Some(l), Some(v)) = (&last, &v)
                    && compare(v, l) == Ordering::Less
                {
                    return Err(Error::Unsorted {
                        stream: self.def.name.clone(),
                        earlier: l.to_string(),
                        later: v.to_string(),
                    });
                }
                let child_view = self.planned.has_children.then(|| record.clone());
                let row = pipeline.shape(record, &self.context, &req.url)?;
                let key = pipeline.key_of(&row);
                if let Some(v) = &v {
                    if page_last
                        .as_ref()
                        .is_some_and(|p| compare(v, p) == Ordering::Equal)
                    {
                        at_last.push(key.clone());
                    } else {
                        page_last = Some(v.clone());
                        at_last = vec![key.clone()];
                    }
                    last = Some(v.clone());
                    for t in &ties {
                        if compare(v, &t.value) == Ordering::Greater && t.keys.contains(&key) {
                            disturbed = Some(match disturbed.take() {
                                Some(d) if compare(&d, &t.value) == Ordering::Less => d,
                                _ => t.value.clone(),
                            });
                        }
                    }
                    let at_anchor = anchor
                        .as_ref()
                        .is_some_and(|a| compare(v, a) == Ordering::Equal);
                    if at_anchor && boundary.contains(&key) {
                        continue;
                    }
                }
                out.max_seen = bookmarks::max(out.max_seen.take(), v.as_ref());
                rows.push(row);
                kept.extend(child_view);
            }
            if !self.emit(rows).await {
                return Ok(out);
            }
            if !kept.is_empty() {
                super::children::run(self.sh, self.s, &self.context, &kept, self.tx).await?;
            }
            let view = PageView {
                headers: &page.headers,
                body: &page.body,
                records: count,
                link_next: page.next.as_deref(),
            };
            let next = if stop {
                None
            } else {
                pager
                    .next(&self.def.name, &req, view)?
                    .map(|r| self.sh.client.without_credentials(r))
            };
            if first_page {
                // Whatever the paginator: a page followed by another is not the whole list.
                out.first_had_next = next.is_some();
            }
            if next.is_none()
                && let Some(head) = head_ahead.take()
                && self.head_moved(&first, w.records, &head).await?
            {
                tracing::info!(
                    "{}: {}: the list changed while its pages were fetched ahead; reading it again page by page",
                    self.def.name,
                    self.label
                );
                (ahead, prefetch, last) = (false, None, None);
                pager = Pager::new(&self.def.paginator);
                req = pager.first(w.first.clone())?;
                continue;
            }
            let Some(asc) = &w.ascending else {
                match next {
                    Some(n) => req = n,
                    None => return Ok(out),
                }
                continue;
            };
            let Some(link) = next else {
                let Some(value) = disturbed.take() else {
                    return Ok(out);
                };
                rewalks += 1;
                if rewalks > MAX_REWALKS {
                    return Err(Error::Http(format!(
                        "stream `{}`: {}: the records at {value} fill more than a page and kept changing while paged ({MAX_REWALKS} passes); run again",
                        self.def.name, self.label
                    )));
                }
                tracing::warn!(
                    "{}: {}: records at {value} changed while paged; reading them again",
                    self.def.name,
                    self.label
                );
                boundary = ties
                    .iter()
                    .filter(|t| compare(&t.value, &value) == Ordering::Equal)
                    .flat_map(|t| t.keys.iter().cloned())
                    .collect();
                ties.clear();
                let param = asc.param.unwrap_or_default();
                pager = Pager::new(&self.def.paginator);
                req = pager.first(first.with_param(param, &text(&value))?)?;
                anchor = Some(value);
                last = None;
                continue;
            };
            match (&page_last, asc.param) {
                (Some(lv), Some(param))
                    if anchor
                        .as_ref()
                        .is_none_or(|a| compare(lv, a) == Ordering::Greater) =>
                {
                    pager = Pager::new(&self.def.paginator);
                    req = pager.first(first.with_param(param, &text(lv))?)?;
                    anchor = Some(lv.clone());
                    boundary = at_last.into_iter().collect();
                }
                (Some(lv), Some(_)) => {
                    // The whole page shares the anchor's value: page within it.
                    match ties
                        .iter_mut()
                        .find(|t| compare(&t.value, lv) == Ordering::Equal)
                    {
                        Some(t) => t.keys.extend(at_last.iter().cloned()),
                        None => ties.push(Tie {
                            value: lv.clone(),
                            keys: at_last.iter().cloned().collect(),
                        }),
                    }
                    boundary.extend(at_last);
                    req = link;
                }
                _ => req = link,
            }
            // Everything before the next request's start is written; a group paged by the
            // paginator holds the bookmark at its value until the partition is done.
            if self.def.incremental() {
                let progress = match ties.first() {
                    Some(t) => Some(t.value.clone()),
                    None => bookmarks::max(out.max_seen.clone(), asc.prior.as_ref()),
                };
                let mark = Mark {
                    value: progress,
                    window: self.window.clone(),
                    ..Mark::default()
                };
                self.bookmark(&mark).await;
            }
        }
    }

    /// Whether the first page of the list, asked again, starts with another record than `head`.
    async fn head_moved(
        &self,
        first: &Request,
        records: &str,
        head: &Value,
    ) -> Result<bool, Error> {
        Ok(match self.fetch(first, None, records, false).await? {
            Fetched::Page(page) => page.records.first().unwrap_or(&Value::Null) != head,
            _ => true,
        })
    }

    /// Sends `req`, applying the `on_status` actions (or refusing, when `lenient`).
    pub async fn fetch(
        &self,
        req: &Request,
        conditional: Option<&str>,
        records: &str,
        lenient: bool,
    ) -> Result<Fetched, Error> {
        let resp = self
            .sh
            .client
            .send(
                self.def.path.source(),
                req,
                conditional,
                &self.retry_statuses(),
            )
            .await?;
        self.classify(req, resp, records, lenient)
    }

    /// What an answer to `req` means, by the `on_status` actions (or refusing, when
    /// `lenient`).
    fn classify(
        &self,
        req: &Request,
        resp: Response,
        records: &str,
        lenient: bool,
    ) -> Result<Fetched, Error> {
        let (records, body) = match resp.status {
            304 => return Ok(Fetched::NotModified),
            204 => (Vec::new(), Value::Null),
            200..=299 => records::parse(&self.def.name, &req.url, &resp.body, records)?,
            status if lenient => return Ok(Fetched::Refused(status)),
            status => match self.sh.defs.action(self.def, status) {
                Some(StatusAction::SkipPartition) => {
                    self.sh.missing(self, &req.url, status);
                    return Ok(Fetched::Skip);
                }
                Some(StatusAction::Empty) => (Vec::new(), Value::Null),
                _ => {
                    return Err(Error::Status {
                        stream: self.def.name.clone(),
                        url: req.url.clone(),
                        status,
                        message: self.sh.client.mask(
                            &String::from_utf8_lossy(&resp.body)
                                .chars()
                                .take(200)
                                .collect::<String>(),
                        ),
                    });
                }
            },
        };
        Ok(Fetched::Page(Page {
            records,
            body,
            headers: resp.headers,
            next: resp.next,
            etag: resp.etag,
        }))
    }
}

/// A replication-key value as a parameter: a string as it is, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
