//! One stream × partition: where it resumes (the stored bookmark, when it still covers what the
//! run asks for), how its pages follow each other (a strategy per replication mode), and the
//! bookmark it leaves behind its records.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::bookmarks::{self, Mark, Prior, Window, compare};
use super::definition::{FieldSource, HeadDef, Order, Replication, StatusAction, StreamDef};
use super::error::Error;
use super::http::with_query;
use super::metrics;
use super::paginator::PageCursor;
use super::sync::{Out, Planned, Shared};

/// Passes over a group of records sharing one replication-key value before giving up, when
/// they keep changing while the group is paged.
const MAX_REWALKS: u32 = 3;

/// Syncs one stream × partition.
pub(super) async fn sync(
    sh: &Shared,
    s: usize,
    value: &str,
    tx: &mpsc::Sender<Out>,
) -> Result<(), Error> {
    let mut part = Part::new(sh, s, value, tx)?;
    let prior = part.resume();
    let def = part.def;
    let mark = match (&def.replication, &def.head) {
        (Replication::FullTable, _) => {
            let first = part.url(&part.path, &def.params)?;
            part.walk(Walk::plain(first, &def.records)).await?;
            None
        }
        (Replication::SinceParam { param, .. }, Some(head)) => {
            part.by_head(param, head, prior).await?
        }
        (
            Replication::SinceParam {
                param,
                order: Order::Ascending,
                reanchor,
                ..
            },
            None,
        ) => part.ascending(param, *reanchor, prior).await?,
        (
            Replication::SinceParam {
                param,
                order: Order::Descending,
                ..
            },
            None,
        ) => part.descending(param, &prior).await?,
        (Replication::EarlyStop { .. }, _) => part.early_stop(&prior).await?,
    };
    metrics::record_count(&def.name, &part.context, part.count);
    if let Some(mark) = mark
        && (mark.value.is_some() || mark.etag.is_some() || mark.head.is_some())
    {
        part.bookmark(&mark).await;
    }
    Ok(())
}

/// One stream × partition being synced.
struct Part<'a> {
    sh: &'a Shared,
    s: usize,
    planned: &'a Planned,
    def: &'a StreamDef,
    /// The partition value, e.g. `octo/app`.
    value: &'a str,
    context: Map<String, Value>,
    /// The stream's path with the partition filled in.
    path: String,
    /// What this run asks for; replaced by the stored window merged with it when resuming.
    window: Window,
    lookback: Duration,
    tx: &'a mpsc::Sender<Out>,
    /// Records emitted.
    count: u64,
}

/// One page as the engine uses it.
struct Page {
    records: Vec<Value>,
    body: Value,
    next: Option<String>,
    etag: Option<String>,
}

enum Fetched {
    NotModified,
    /// The status maps to `skip_partition`.
    Skip,
    /// A lenient request got a status it does not handle.
    Refused(u16),
    Page(Page),
}

/// How a walk over linked pages goes.
struct Walk<'x> {
    first: String,
    conditional: Option<&'x str>,
    /// JSON pointer of the records in each body.
    records: &'x str,
    /// Stop at the first record whose replication key is below this (newest-first lists).
    floor: Option<Value>,
    /// Ascending lists: sorted, bookmarked page by page, maybe re-anchored.
    ascending: Option<Ascending<'x>>,
    /// On the first page: the body's value at this pointer must be one of these, else the walk
    /// is refused (a comparison whose base is not an ancestor).
    gate: Option<(&'x str, &'x [String])>,
    /// Statuses the client does not handle refuse the walk instead of applying `on_status`.
    lenient: bool,
}

impl<'x> Walk<'x> {
    fn plain(first: String, records: &'x str) -> Walk<'x> {
        Walk {
            first,
            conditional: None,
            records,
            floor: None,
            ascending: None,
            gate: None,
            lenient: false,
        }
    }
}

struct Ascending<'x> {
    param: &'x str,
    reanchor: bool,
    /// The stored bookmark, the lowest value any mid-partition bookmark may take.
    prior: Option<Value>,
}

/// How a walk ended.
#[derive(Default)]
struct Walked {
    not_modified: bool,
    skipped: bool,
    refused: Option<String>,
    first_etag: Option<String>,
    first_had_next: bool,
    max_seen: Option<Value>,
}

/// Records sharing one replication-key value that filled a page, paged through the paginator
/// (offsets) because re-anchoring on their value cannot move on.
struct Tie {
    value: Value,
    keys: HashSet<String>,
}

impl<'a> Part<'a> {
    fn new(
        sh: &'a Shared,
        s: usize,
        value: &'a str,
        tx: &'a mpsc::Sender<Out>,
    ) -> Result<Part<'a>, Error> {
        let planned = &sh.streams[s];
        let def = &planned.def;
        let key = &sh.defs.partitions.key;
        let mut context = Map::new();
        context.insert(key.clone(), Value::String(value.to_owned()));
        let path = def.path.replace(&format!("{{{key}}}"), value);
        let mut part = Part {
            sh,
            s,
            planned,
            def,
            value,
            context,
            path,
            window: Window::default(),
            lookback: sh.lookback.of(def),
            tx,
            count: 0,
        };
        part.window = Window {
            start: sh.start_date.clone(),
            request: part.relative(&part.url(&part.path, &def.params)?),
            dropped: planned.drop.iter().cloned().collect(),
        };
        Ok(part)
    }

    /// The stored bookmark, when it is on this stream's replication key and covers what this
    /// run asks for; otherwise nothing (the partition starts over from the start date).
    fn resume(&mut self) -> Prior {
        let Some(stored) = self.sh.state.partition(&self.def.name, &self.context) else {
            return Prior::default();
        };
        let (name, value) = (&self.def.name, self.value);
        if let (Some(have), Some(want)) = (&stored.replication_key, self.def.bookmark_name())
            && *have != want
        {
            tracing::warn!(
                "stream `{name}`: the stored bookmark of {value} is on `{have}`, the stream's replication key is `{want}`: starting over"
            );
            return Prior::default();
        }
        let prior = Prior::of(&stored);
        if let Some(window) = &prior.window {
            if let Some(gap) = window.gap(&self.window) {
                let from = self.sh.start_date.as_deref().unwrap_or("the beginning");
                tracing::info!(
                    "{name}: {value}: the stored bookmark does not cover this run ({gap}): reading again from {from}"
                );
                return Prior::default();
            }
            self.window = window.merged(&self.window);
        }
        prior
    }

    /// A newest-first list with a head marker: probe the head, read what is new through the
    /// delta endpoint, fall back to the since parameter when the old head is not an ancestor.
    async fn by_head(
        &mut self,
        param: &str,
        head: &HeadDef,
        prior: Prior,
    ) -> Result<Option<Mark>, Error> {
        let mut params = self.def.params.clone();
        params.extend(head.params.clone());
        let probe = self.url(&self.path, &params)?;
        let probe_rel = self.relative(&probe);
        let conditional = prior.head.as_ref().and_then(|_| prior.etag_for(&probe_rel));
        let page = match self
            .fetch(&probe, conditional, &self.def.records, false)
            .await?
        {
            Fetched::NotModified => {
                tracing::info!("{}: {}: head unchanged", self.def.name, self.value);
                return Ok(Some(self.unchanged(&prior)));
            }
            Fetched::Skip | Fetched::Refused(_) => return Ok(None),
            Fetched::Page(page) => page,
        };
        let new_head = page
            .records
            .first()
            .and_then(|r| r.pointer(&head.pointer))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let probe_etag = page.etag.map(|e| (probe_rel, e));
        let mut mark = Mark {
            value: prior.value.clone(),
            etag: probe_etag,
            head: new_head.clone().or(prior.head.clone()),
            window: self.window.clone(),
        };
        let (old, new) = match (&prior.head, &new_head) {
            (_, None) => return Ok(Some(mark)),
            (Some(old), Some(new)) if old == new => return Ok(Some(mark)),
            (Some(old), Some(new)) => (old, new),
            (None, Some(_)) => {
                let walked = self.since_walk(param, prior.value.as_ref()).await?;
                if walked.skipped {
                    return Ok(None);
                }
                mark.value = bookmarks::max(walked.max_seen, prior.value.as_ref());
                return Ok(Some(mark));
            }
        };
        let path = head
            .path
            .replace(&format!("{{{}}}", self.sh.defs.partitions.key), self.value)
            .replace("{old}", old)
            .replace("{new}", new);
        let walk = Walk {
            gate: Some((&head.status, &head.ancestor)),
            lenient: true,
            ..Walk::plain(self.url(&path, &head.delta_params)?, &head.records)
        };
        let mut walked = self.walk(walk).await?;
        if let Some(why) = &walked.refused {
            let since = bookmarks::since(
                prior.value.as_ref(),
                self.sh.start_date.as_deref(),
                self.lookback,
            );
            tracing::warn!(
                "{}: {}: the bookmarked head {old} is not an ancestor of {new} ({why}); reading since {} instead",
                self.def.name,
                self.value,
                since.as_deref().unwrap_or("the beginning")
            );
            walked = self.since_walk(param, prior.value.as_ref()).await?;
        }
        if walked.skipped {
            return Ok(None);
        }
        mark.value = bookmarks::max(walked.max_seen, prior.value.as_ref());
        Ok(Some(mark))
    }

    /// The newest-first list from `bookmark − lookback` (else the start date).
    async fn since_walk(&mut self, param: &str, bookmark: Option<&Value>) -> Result<Walked, Error> {
        let first = self.since_url(param, bookmark)?;
        self.walk(Walk::plain(first, &self.def.records)).await
    }

    /// An oldest-first list filtered by the since parameter, bookmarked page by page.
    async fn ascending(
        &mut self,
        param: &str,
        reanchor: bool,
        prior: Prior,
    ) -> Result<Option<Mark>, Error> {
        let first = self.since_url(param, prior.value.as_ref())?;
        let rel = self.relative(&first);
        let walk = Walk {
            conditional: prior.etag_for(&rel),
            ascending: Some(Ascending {
                param,
                reanchor,
                prior: prior.value.clone(),
            }),
            ..Walk::plain(first, &self.def.records)
        };
        let walked = self.walk(walk).await?;
        self.finish(walked, &prior, rel, |w| !w.first_had_next)
    }

    /// A newest-first list filtered by the since parameter: any change reaches its first page.
    async fn descending(&mut self, param: &str, prior: &Prior) -> Result<Option<Mark>, Error> {
        let first = self.since_url(param, prior.value.as_ref())?;
        let rel = self.relative(&first);
        let walk = Walk {
            conditional: prior.etag_for(&rel),
            ..Walk::plain(first, &self.def.records)
        };
        let walked = self.walk(walk).await?;
        self.finish(walked, prior, rel, |_| true)
    }

    /// A newest-first list without a filter: stop below `bookmark − lookback` (else the start
    /// date).
    async fn early_stop(&mut self, prior: &Prior) -> Result<Option<Mark>, Error> {
        let first = self.url(&self.path, &self.def.params)?;
        let rel = self.relative(&first);
        let floor = match &prior.value {
            Some(Value::String(_)) | None => bookmarks::since(
                prior.value.as_ref(),
                self.sh.start_date.as_deref(),
                self.lookback,
            )
            .map(Value::String),
            Some(number) => Some(number.clone()),
        };
        let walk = Walk {
            conditional: prior.etag_for(&rel),
            floor,
            ..Walk::plain(first, &self.def.records)
        };
        let walked = self.walk(walk).await?;
        self.finish(walked, prior, rel, |_| true)
    }

    /// The bookmark after a walk: unchanged on a 304, else the greatest value seen, with the
    /// first request's ETag when `keep_etag` says a 304 for it would prove nothing changed.
    fn finish(
        &self,
        walked: Walked,
        prior: &Prior,
        first: String,
        keep_etag: impl Fn(&Walked) -> bool,
    ) -> Result<Option<Mark>, Error> {
        if walked.skipped {
            return Ok(None);
        }
        if walked.not_modified {
            tracing::info!("{}: {}: not modified", self.def.name, self.value);
            return Ok(Some(self.unchanged(prior)));
        }
        let etag = if keep_etag(&walked) {
            walked.first_etag.clone().map(|e| (first, e))
        } else {
            None
        };
        Ok(Some(Mark {
            value: bookmarks::max(walked.max_seen, prior.value.as_ref()),
            etag,
            head: None,
            window: self.window.clone(),
        }))
    }

    fn unchanged(&self, prior: &Prior) -> Mark {
        Mark {
            value: prior.value.clone(),
            etag: prior.etag.clone(),
            head: prior.head.clone(),
            window: self.window.clone(),
        }
    }

    /// Walks linked pages from `w.first`, emitting records page by page.
    async fn walk(&mut self, w: Walk<'_>) -> Result<Walked, Error> {
        let mut out = Walked::default();
        let mut cursor = PageCursor::new(self.def.paginator, &w.first);
        let mut url = w.first.clone();
        let mut first = true;
        // Re-anchoring: the value the current request starts from, the keys already emitted at
        // it, the groups paged by offset, and how often a disturbed group was read again.
        let mut anchor: Option<Value> = None;
        let mut boundary: HashSet<String> = HashSet::new();
        let mut ties: Vec<Tie> = Vec::new();
        let mut disturbed: Option<Value> = None;
        let mut rewalks = 0u32;
        let mut last: Option<Value> = None;
        loop {
            let conditional = if first { w.conditional } else { None };
            let page = match self.fetch(&url, conditional, w.records, w.lenient).await? {
                Fetched::NotModified => {
                    out.not_modified = true;
                    return Ok(out);
                }
                Fetched::Skip => {
                    out.skipped = true;
                    return Ok(out);
                }
                Fetched::Refused(status) => {
                    out.refused = Some(format!("{url} answered {status}"));
                    return Ok(out);
                }
                Fetched::Page(page) => page,
            };
            if first {
                if let Some((pointer, accepted)) = w.gate {
                    let status = page.body.pointer(pointer).and_then(Value::as_str);
                    if !status.is_some_and(|s| accepted.iter().any(|a| a == s)) {
                        out.refused = Some(format!("status {}", status.unwrap_or("missing")));
                        return Ok(out);
                    }
                }
                out.first_etag = page.etag.clone();
                out.first_had_next = page.next.is_some();
            }
            first = false;

            let mut stop = false;
            let mut rows = Vec::with_capacity(page.records.len());
            // The page's last replication-key value and the keys of its records at that value.
            let mut page_last: Option<Value> = None;
            let mut at_last: Vec<String> = Vec::new();
            for record in page.records {
                let v = self
                    .def
                    .replication_key()
                    .and_then(|k| record.pointer(k))
                    .cloned();
                if let (Some(floor), Some(v)) = (&w.floor, &v)
                    && compare(v, floor) == Ordering::Less
                {
                    stop = true;
                    break;
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
                let row = self.prepare(record, &url)?;
                let key = self.key_of(&row);
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
            }
            if !self.emit(rows).await {
                return Ok(out);
            }
            let next = if stop {
                None
            } else {
                cursor.advance(&self.def.name, page.next)?
            };
            let Some(asc) = &w.ascending else {
                match next {
                    Some(n) => url = n,
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
                        "stream `{}`: {}: the records at {} fill more than a page and kept changing while paged ({MAX_REWALKS} passes); run again",
                        self.def.name, self.value, value
                    )));
                }
                tracing::warn!(
                    "{}: {}: records at {value} changed while paged by offset; reading them again",
                    self.def.name,
                    self.value
                );
                boundary = ties
                    .iter()
                    .filter(|t| compare(&t.value, &value) == Ordering::Equal)
                    .flat_map(|t| t.keys.iter().cloned())
                    .collect();
                ties.clear();
                url = self.with_param(&w.first, asc.param, &value)?;
                cursor = PageCursor::new(self.def.paginator, &url);
                anchor = Some(value);
                last = None;
                continue;
            };
            match (&page_last, asc.reanchor) {
                (Some(lv), true)
                    if anchor
                        .as_ref()
                        .is_none_or(|a| compare(lv, a) == Ordering::Greater) =>
                {
                    url = self.with_param(&w.first, asc.param, lv)?;
                    anchor = Some(lv.clone());
                    boundary = at_last.into_iter().collect();
                }
                (Some(lv), true) => {
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
                    url = link;
                }
                _ => url = link,
            }
            // Everything before the next request's start is written; a group paged by offset
            // holds the bookmark at its value until the partition is done.
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

    /// GETs `url`, applying the `on_status` actions (or refusing, when `lenient`).
    async fn fetch(
        &self,
        url: &str,
        conditional: Option<&str>,
        records: &str,
        lenient: bool,
    ) -> Result<Fetched, Error> {
        let mut status_retries = 0u32;
        loop {
            let resp = self
                .sh
                .client
                .get(&self.def.path, url, &self.def.headers, conditional)
                .await?;
            let (records, body) = match resp.status {
                304 => return Ok(Fetched::NotModified),
                204 => (Vec::new(), Value::Null),
                200..=299 => self.parse(url, &resp.body, records)?,
                status if lenient => return Ok(Fetched::Refused(status)),
                status => match self.sh.defs.action(self.def, status) {
                    Some(StatusAction::SkipPartition) => {
                        tracing::warn!(
                            "{}: {url} answered {status}; skipping {}",
                            self.def.name,
                            self.value
                        );
                        return Ok(Fetched::Skip);
                    }
                    Some(StatusAction::Empty) => (Vec::new(), Value::Null),
                    Some(StatusAction::Retry) if status_retries < self.sh.max_retries => {
                        status_retries += 1;
                        let wait = self.sh.backoff.saturating_mul(1 << status_retries.min(10));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    _ => {
                        return Err(Error::Status {
                            stream: self.def.name.clone(),
                            url: url.to_owned(),
                            status,
                            message: String::from_utf8_lossy(&resp.body)
                                .chars()
                                .take(200)
                                .collect(),
                        });
                    }
                },
            };
            return Ok(Fetched::Page(Page {
                records,
                body,
                next: resp.next,
                etag: resp.etag,
            }));
        }
    }

    /// The records of a body at `pointer` (empty: the body itself), and the body.
    fn parse(&self, url: &str, body: &[u8], pointer: &str) -> Result<(Vec<Value>, Value), Error> {
        let bad = |why: String| Error::Body {
            stream: self.def.name.clone(),
            url: url.to_owned(),
            why,
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok((Vec::new(), Value::Null));
        }
        let mut body: Value =
            serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        let at = if pointer.is_empty() {
            Some(std::mem::take(&mut body))
        } else {
            body.pointer_mut(pointer).map(Value::take)
        };
        let records = match at {
            Some(Value::Array(items)) => items,
            Some(Value::Object(o)) => vec![Value::Object(o)],
            Some(Value::Null) | None => Vec::new(),
            Some(other) => {
                return Err(bad(format!(
                    "records are neither an array nor an object: {}",
                    other.to_string().chars().take(80).collect::<String>()
                )));
            }
        };
        Ok((records, body))
    }

    /// A record as it is written: added fields set, deselected fields dropped.
    fn prepare(&self, record: Value, url: &str) -> Result<Map<String, Value>, Error> {
        let Value::Object(mut map) = record else {
            return Err(Error::Body {
                stream: self.def.name.clone(),
                url: url.to_owned(),
                why: "a record is not an object".into(),
            });
        };
        for f in self.sh.defs.add_fields.iter().chain(&self.def.add_fields) {
            let value = match &f.from {
                FieldSource::Context(k) => self.context.get(k).cloned(),
                FieldSource::Pointer(p) => pointer_in(&map, p).cloned(),
            };
            map.insert(f.name.clone(), value.unwrap_or(Value::Null));
        }
        map.retain(|k, _| !self.planned.drop.contains(k));
        Ok(map)
    }

    /// The primary key of a row as one string.
    fn key_of(&self, row: &Map<String, Value>) -> String {
        let values: Vec<&Value> = self
            .def
            .primary_key
            .iter()
            .map(|k| row.get(k).unwrap_or(&Value::Null))
            .collect();
        serde_json::to_string(&values).unwrap_or_default()
    }

    /// Sends a page of rows to the writer; false when the writer is gone.
    async fn emit(&mut self, rows: Vec<Map<String, Value>>) -> bool {
        if rows.is_empty() {
            return true;
        }
        self.count += rows.len() as u64;
        let extracted = bookmarks::format_utc(time::OffsetDateTime::now_utc());
        self.tx
            .send(Out::Records {
                stream: self.s,
                records: rows,
                version: self.planned.version,
                extracted,
            })
            .await
            .is_ok()
    }

    async fn bookmark(&self, mark: &Mark) {
        let partition = bookmarks::partition(&self.context, self.def.bookmark_name(), mark);
        let _ = self
            .tx
            .send(Out::Bookmark {
                stream: self.s,
                partition,
            })
            .await;
    }

    /// The stream's URL with the since parameter at `bookmark − lookback` (else the start
    /// date; neither: no parameter).
    fn since_url(&self, param: &str, bookmark: Option<&Value>) -> Result<String, Error> {
        let mut params = self.def.params.clone();
        if let Some(since) =
            bookmarks::since(bookmark, self.sh.start_date.as_deref(), self.lookback)
        {
            params.insert(param.to_owned(), since);
        }
        self.url(&self.path, &params)
    }

    /// `url` with `param` set to `value` (a string value as it is, other values as JSON).
    fn with_param(&self, url: &str, param: &str, value: &Value) -> Result<String, Error> {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut u = reqwest::Url::parse(url).map_err(|e| Error::Setup(format!("{url}: {e}")))?;
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != param)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair(param, &text);
        Ok(u.to_string())
    }

    fn url(
        &self,
        path: &str,
        params: &std::collections::BTreeMap<String, String>,
    ) -> Result<String, Error> {
        with_query(&self.sh.client.url(path), params)
    }

    /// `url` without the API base: what the state records.
    fn relative(&self, url: &str) -> String {
        let base = self.sh.client.url("");
        url.strip_prefix(&base).unwrap_or(url).to_owned()
    }
}

/// The value at JSON pointer `p` inside an object.
fn pointer_in<'m>(map: &'m Map<String, Value>, p: &str) -> Option<&'m Value> {
    let mut parts = p.strip_prefix('/')?.split('/');
    let first = unescape(parts.next()?);
    let rest: Vec<String> = parts.map(|s| format!("/{s}")).collect();
    let top = map.get(&first)?;
    if rest.is_empty() {
        Some(top)
    } else {
        top.pointer(&rest.concat())
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_reach_into_a_map() {
        let Value::Object(m) = json!({"user": {"id": 3}, "a/b": 1}) else {
            unreachable!("an object literal")
        };
        assert_eq!(pointer_in(&m, "/user/id"), Some(&json!(3)));
        assert_eq!(pointer_in(&m, "/a~1b"), Some(&json!(1)));
        assert_eq!(pointer_in(&m, "/none"), None);
        assert_eq!(pointer_in(&m, "user"), None);
    }
}
