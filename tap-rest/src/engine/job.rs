//! One stream × partition: where it resumes (the stored bookmark, when it still covers what the
//! run asks for), a strategy per replication mode, and the bookmark it leaves behind its
//! records. The page walk itself is in `walk`; children in `children`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::bookmarks::{self, Mark, Prior, Window};
use super::error::Error;
use super::metrics;
use super::request::{Request, Scope};
use super::sync::{Out, Planned, Shared};
use super::walk::{Ascending, Walk, Walked};
use crate::defs::partitions::Missing;
use crate::defs::stream::{Method, Order, Replication};
use crate::defs::template::{Target, Template};
use crate::defs::{HeadDef, StreamDef};

/// One stream × partition being synced.
pub(crate) struct Job<'a> {
    pub sh: &'a Shared,
    pub s: usize,
    pub planned: &'a Planned,
    pub def: &'a StreamDef,
    /// Names the partition in logs, e.g. `octo/app`.
    pub label: String,
    pub context: Map<String, Value>,
    /// Settings and context, for templates.
    pub scope: Scope,
    /// What this run asks for; replaced by the stored window merged with it when resuming.
    pub window: Window,
    pub lookback: Duration,
    pub tx: &'a mpsc::Sender<Out>,
    /// Records emitted.
    pub count: u64,
    /// What a 404 for the partition means.
    pub missing: Missing,
}

impl<'a> Job<'a> {
    /// The job of stream `s` in partition `context`.
    pub fn new(
        sh: &'a Shared,
        s: usize,
        context: Map<String, Value>,
        tx: &'a mpsc::Sender<Out>,
    ) -> Result<Job<'a>, Error> {
        let planned = &sh.streams[s];
        let def = &planned.def;
        let label = label(
            &context,
            sh.defs.partitions.as_ref().map(|p| p.key.as_str()),
        );
        let mut scope = sh.scope.clone();
        scope.context = context.clone();
        scope.zone = sh.zones.get(&s).cloned();
        let mut job = Job {
            sh,
            s,
            planned,
            def,
            label,
            context,
            scope,
            window: Window::default(),
            lookback: sh.lookback.of(def),
            tx,
            count: 0,
            missing: Missing::Warn,
        };
        // The request this bookmark is for: every parameter, the bookmark as a placeholder
        // (formatted ones too: `{bookmark:%Y/%m/%d}` is no date to format).
        let verbatim = Scope {
            verbatim_bookmark: true,
            ..job.scope.clone()
        };
        let fingerprint = job.request_in(verbatim, Some("{bookmark}"))?;
        job.window = Window {
            start: sh.start_date.clone(),
            request: job.relative(&fingerprint.identity()),
            dropped: planned.drop.iter().cloned().collect(),
            unselected: !planned.emit,
            children: sh
                .streams
                .iter()
                .filter(|c| c.parent == Some(s) && c.emit)
                .map(|c| c.def.name.clone())
                .collect(),
        };
        Ok(job)
    }

    /// Syncs the partition: records, then its bookmark.
    pub async fn run(mut self) -> Result<(), Error> {
        let prior = self.resume();
        let def = self.def;
        let mark = match (&def.replication, &def.head) {
            (Replication::FullTable, _) => {
                let first = self.request(None)?;
                self.walk(Walk::plain(first, &def.records)).await?;
                None
            }
            (Replication::SinceParam { .. }, Some(head)) => self.by_head(head, prior).await?,
            (
                Replication::SinceParam {
                    param,
                    order: Order::Ascending,
                    reanchor,
                    ..
                },
                None,
            ) => self.ascending(param.as_deref(), *reanchor, prior).await?,
            (
                Replication::SinceParam {
                    order: Order::Descending,
                    ..
                },
                None,
            ) => self.descending(&prior).await?,
            (Replication::EarlyStop { .. }, _) | (Replication::ClientFilter { .. }, _) => {
                self.floored(&prior).await?
            }
        };
        if def.parent.is_none() {
            metrics::record_count(&def.name, &self.context, self.count);
        } else {
            self.sh.child_records(self.s, self.count);
        }
        if let Some(mark) = mark
            && def.incremental()
            && (mark.value.is_some() || mark.etag.is_some() || mark.head.is_some())
        {
            self.bookmark(&mark).await;
        }
        Ok(())
    }

    /// A child's list embedded whole in its parent record: its records, with no request.
    pub async fn embedded(mut self, items: &[Value]) -> Result<(), Error> {
        let pipeline = &self.planned.pipeline;
        let mut rows = Vec::with_capacity(items.len());
        let mut kept = Vec::new();
        for record in items.iter().filter(|r| pipeline.keeps(r)) {
            if self.planned.has_children {
                kept.push(record.clone());
            }
            rows.push(pipeline.shape(record.clone(), &self.context, "(embedded in its parent)")?);
        }
        self.emit(rows).await;
        if !kept.is_empty() {
            super::children::run(self.sh, self.s, &self.context, &kept, self.tx).await?;
        }
        self.sh.child_records(self.s, self.count);
        Ok(())
    }

    /// The stored bookmark, when it is on this stream's replication key and covers what this
    /// run asks for; otherwise nothing (the partition starts over from the start date).
    fn resume(&mut self) -> Prior {
        if !self.def.incremental() {
            return Prior::default();
        }
        let Some(stored) = self.sh.state.partition(&self.def.name, &self.context) else {
            return Prior::default();
        };
        let (name, label) = (&self.def.name, &self.label);
        if let (Some(have), Some(want)) = (&stored.replication_key, self.def.bookmark_name())
            && *have != want
        {
            tracing::warn!(
                "stream `{name}`: the stored bookmark of {label} is on `{have}`, the stream's replication key is `{want}`: starting over"
            );
            return Prior::default();
        }
        let prior = Prior::of(&stored);
        if let Some(window) = &prior.window {
            if let Some(gap) = window.gap(&self.window) {
                let from = self.sh.start_date.as_deref().unwrap_or("the beginning");
                tracing::info!(
                    "{name}: {label}: the stored bookmark does not cover this run ({gap}): reading again from {from}"
                );
                return Prior::default();
            }
            self.window = window.merged(&self.window);
        }
        prior
    }

    /// A newest-first list with a head marker: probe the head, read what is new through the
    /// delta endpoint, fall back to the since parameter when the old head is not an ancestor.
    async fn by_head(&mut self, head: &HeadDef, prior: Prior) -> Result<Option<Mark>, Error> {
        let mut probe = self.request(None)?;
        for (k, v) in self.scope.params(&head.params, "head.params")? {
            probe = probe.with_param(&k, &v)?;
        }
        let probe_rel = self.relative(&probe.identity());
        let conditional = prior
            .head
            .as_ref()
            .and_then(|_| prior.etag_for(&probe_rel))
            .filter(|_| self.conditional());
        let page = match self
            .fetch(&probe, conditional, &self.def.records, false)
            .await?
        {
            super::walk::Fetched::NotModified => {
                tracing::info!("{}: {}: head unchanged", self.def.name, self.label);
                return Ok(Some(self.unchanged(&prior)));
            }
            super::walk::Fetched::Skip | super::walk::Fetched::Refused(_) => return Ok(None),
            super::walk::Fetched::Page(page) => page,
        };
        let new_head = page
            .records
            .first()
            .and_then(|r| r.pointer(&head.pointer))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut mark = Mark {
            value: prior.value.clone(),
            etag: page.etag.map(|e| (probe_rel, e)),
            head: new_head.clone().or(prior.head.clone()),
            window: self.window.clone(),
        };
        let (old, new) = match (&prior.head, &new_head) {
            (_, None) => return Ok(Some(mark)),
            (Some(old), Some(new)) if old == new => return Ok(Some(mark)),
            (Some(old), Some(new)) => (old.clone(), new.clone()),
            (None, Some(_)) => {
                let walked = self.since_walk(prior.value.as_ref()).await?;
                if walked.skipped {
                    return Ok(None);
                }
                mark.value = bookmarks::max(walked.max_seen, prior.value.as_ref());
                return Ok(Some(mark));
            }
        };
        let scope = self
            .scope
            .with("old", Value::String(old.clone()))
            .with("new", Value::String(new.clone()));
        let path = scope.fill(&head.path, Target::Path, "head.path")?;
        let params = scope.params(&head.delta_params, "head.delta_params")?;
        let delta = Request {
            url: super::request::with_query(&self.sh.client.url(&path), &params)?,
            ..Request::get(String::new())
        };
        let walk = Walk {
            gate: Some((&head.status, &head.ancestor)),
            lenient: true,
            ..Walk::plain(delta, &head.records)
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
                self.label,
                since.as_deref().unwrap_or("the beginning")
            );
            walked = self.since_walk(prior.value.as_ref()).await?;
        }
        if walked.skipped {
            return Ok(None);
        }
        mark.value = bookmarks::max(walked.max_seen, prior.value.as_ref());
        Ok(Some(mark))
    }

    /// The list from `bookmark − lookback` (else the start date).
    async fn since_walk(&mut self, bookmark: Option<&Value>) -> Result<Walked, Error> {
        let first = self.request(self.since(bookmark).as_deref())?;
        self.walk(Walk::plain(first, &self.def.records)).await
    }

    /// An oldest-first list filtered by the since value, bookmarked page by page.
    async fn ascending(
        &mut self,
        param: Option<&str>,
        reanchor: bool,
        prior: Prior,
    ) -> Result<Option<Mark>, Error> {
        let first = self.request(self.since(prior.value.as_ref()).as_deref())?;
        let rel = self.relative(&first.identity());
        let walk = Walk {
            conditional: prior.etag_for(&rel).filter(|_| self.conditional()),
            ascending: Some(Ascending {
                param: param.filter(|_| reanchor),
                prior: prior.value.clone(),
            }),
            ..Walk::plain(first, &self.def.records)
        };
        let walked = self.walk(walk).await?;
        Ok(self.finish(walked, &prior, rel, |w| !w.first_had_next))
    }

    /// A newest-first list filtered by the since value: any change reaches its first page.
    async fn descending(&mut self, prior: &Prior) -> Result<Option<Mark>, Error> {
        let first = self.request(self.since(prior.value.as_ref()).as_deref())?;
        let rel = self.relative(&first.identity());
        let walk = Walk {
            conditional: prior.etag_for(&rel).filter(|_| self.conditional()),
            ..Walk::plain(first, &self.def.records)
        };
        let walked = self.walk(walk).await?;
        Ok(self.finish(walked, prior, rel, |_| true))
    }

    /// A list without a server-side filter: newest first with an early stop below `bookmark −
    /// lookback` (else the start date), or in any order with those records dropped here.
    async fn floored(&mut self, prior: &Prior) -> Result<Option<Mark>, Error> {
        let early_stop = matches!(self.def.replication, Replication::EarlyStop { .. });
        let first = self.request(None)?;
        let rel = self.relative(&first.identity());
        let floor = match &prior.value {
            Some(Value::String(_)) | None => self.since(prior.value.as_ref()).map(Value::String),
            Some(number) => Some(number.clone()),
        };
        let walk = Walk {
            conditional: prior.etag_for(&rel).filter(|_| self.conditional()),
            floor,
            stop_at_floor: early_stop,
            ..Walk::plain(first, &self.def.records)
        };
        let walked = self.walk(walk).await?;
        Ok(self.finish(walked, prior, rel, move |w| early_stop || !w.first_had_next))
    }

    /// The bookmark after a walk: unchanged on a 304, else the greatest value seen, with the
    /// first request's ETag when `keep_etag` says a 304 for it would prove nothing changed.
    fn finish(
        &self,
        walked: Walked,
        prior: &Prior,
        first: String,
        keep_etag: impl Fn(&Walked) -> bool,
    ) -> Option<Mark> {
        if walked.skipped {
            return None;
        }
        if walked.not_modified {
            tracing::info!("{}: {}: not modified", self.def.name, self.label);
            return Some(self.unchanged(prior));
        }
        let etag = if keep_etag(&walked) {
            walked.first_etag.clone().map(|e| (first, e))
        } else {
            None
        };
        let mut value = bookmarks::max(walked.max_seen, prior.value.as_ref());
        if self.end_param().is_some() {
            // With an end parameter nothing newer than the run's start was asked for.
            let end = Value::String(self.sh.run_started.clone());
            value = value.map(|v| bookmarks::min(v, &end));
        }
        Some(Mark {
            value,
            etag,
            head: None,
            window: self.window.clone(),
        })
    }

    fn unchanged(&self, prior: &Prior) -> Mark {
        Mark {
            value: prior.value.clone(),
            etag: prior.etag.clone(),
            head: prior.head.clone(),
            window: self.window.clone(),
        }
    }

    /// Where an incremental request starts.
    fn since(&self, bookmark: Option<&Value>) -> Option<String> {
        bookmarks::since(bookmark, self.sh.start_date.as_deref(), self.lookback)
            .or_else(|| self.def.replication.initial().map(str::to_owned))
    }

    fn end_param(&self) -> Option<&str> {
        match &self.def.replication {
            Replication::SinceParam { end_param, .. } => end_param.as_deref(),
            _ => None,
        }
    }

    /// Whether this stream sends kept ETags.
    pub fn conditional(&self) -> bool {
        self.def
            .conditional
            .unwrap_or(self.sh.defs.http.conditional)
    }

    /// The stream's request with `since` as its bookmark value (none: no bookmark parameter).
    pub fn request(&self, since: Option<&str>) -> Result<Request, Error> {
        self.request_in(self.scope.clone(), since)
    }

    /// The stream's request with templates filled from `scope`.
    fn request_in(&self, mut scope: Scope, since: Option<&str>) -> Result<Request, Error> {
        scope.bookmark = since.map(str::to_owned);
        let path = scope.fill(&self.def.path, Target::Path, &self.what("path"))?;
        let mut params = scope.params(&self.def.params, &self.what("params"))?;
        if let (Replication::SinceParam { param: Some(p), .. }, Some(since)) =
            (&self.def.replication, since)
        {
            params.insert(p.clone(), since.to_owned());
        }
        if let Some(p) = self.end_param() {
            params.insert(p.to_owned(), self.sh.run_started.clone());
        }
        let headers = super::http::headers(&scope, &self.def.headers, &self.what("headers"))?;
        let body = self
            .def
            .body_with(&mut |t: &Template| {
                // Like a parameter, a value that needs a bookmark waits for one.
                if scope.bookmark.is_none() && t.names().any(|n| n == "bookmark") {
                    return Ok(None);
                }
                t.render(&scope, Target::Text).map(Some)
            })
            .map_err(|e| Error::Setup(format!("{}: {e}", self.what("body"))))?;
        Ok(Request {
            method: self.def.method,
            url: super::request::with_query(&self.sh.client.url(&path), &params)?,
            headers,
            body: body.filter(|_| self.def.method == Method::POST),
        })
    }

    fn what(&self, key: &str) -> String {
        format!("stream `{}` {key}", self.def.name)
    }

    /// `url` without the API base: what the state records.
    pub fn relative(&self, url: &str) -> String {
        let base = self.sh.client.base();
        url.strip_prefix(base).unwrap_or(url).to_owned()
    }

    /// Sends a page of rows to the writer; false when the writer is gone. Rows of a stream
    /// that only drives its children are not sent.
    pub async fn emit(&mut self, rows: Vec<Map<String, Value>>) -> bool {
        if rows.is_empty() || !self.planned.emit {
            return true;
        }
        self.count += rows.len() as u64;
        let extracted = crate::time::format_utc(crate::time::now());
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

    /// Sends this partition's bookmark to the writer.
    pub async fn bookmark(&self, mark: &Mark) {
        let partition = bookmarks::partition(&self.context, self.def.bookmark_name(), mark);
        let _ = self
            .tx
            .send(Out::Bookmark {
                stream: self.s,
                partition,
            })
            .await;
    }

    /// The statuses this stream retries like a 5xx.
    pub fn retry_statuses(&self) -> Vec<u16> {
        let codes: BTreeMap<&String, _> = self
            .sh
            .defs
            .on_status
            .iter()
            .chain(&self.def.on_status)
            .collect();
        codes
            .into_iter()
            .filter(|(_, a)| **a == crate::defs::StatusAction::Retry)
            .filter_map(|(c, _)| c.parse().ok())
            .collect()
    }
}

/// A partition as logs name it: the partition key's value, then other context fields
/// (`acme, order 31`); `(all)` for an unpartitioned stream.
fn label(context: &Map<String, Value>, key: Option<&str>) -> String {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let mut parts: Vec<String> = key
        .and_then(|k| context.get(k))
        .map(text)
        .into_iter()
        .collect();
    parts.extend(
        context
            .iter()
            .filter(|(k, _)| Some(k.as_str()) != key)
            .map(|(k, v)| format!("{k} {}", text(v))),
    );
    if parts.is_empty() {
        "(all)".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_put_the_partition_first() {
        let c = json!({"order": 31, "shop": "acme"});
        let c = c.as_object().cloned().unwrap_or_default();
        assert_eq!(label(&c, Some("shop")), "acme, order 31");
        assert_eq!(label(&Map::new(), None), "(all)");
    }
}
