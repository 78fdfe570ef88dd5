//! One request per stream, and what its answer shows: records at the record path, the next
//! page, the bookmark, schema mismatches, and what is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::diagnose;
use super::report::{Bookmark, Mismatch, Next, RequestShown, StreamReport};
use super::schema;
use crate::config::Config;
use crate::defs::auth::AuthDef;
use crate::defs::paging::{PaginatorDef, ValueFrom};
use crate::defs::stream::{Method, Replication};
use crate::defs::template::{Target, Template};
use crate::defs::{Definitions, StatusAction, StreamDef};
use crate::engine::http::{Client, Response};
use crate::engine::paginator::{PageView, Pager};
use crate::engine::records::Pipeline;
use crate::engine::request::{Request, Scope};
use crate::engine::{Engine, Error, bookmarks, partitions};

/// The longest a check waits for a rate limit.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The most schema mismatches listed per stream.
const MAX_MISMATCHES: usize = 20;

/// What a checked stream leaves for its children: its context, whether it answered, and its
/// first record.
type Found = (Map<String, Value>, bool, Option<Value>);

/// Checks the streams at `order` (parents first).
pub async fn all(engine: &Engine, config: &Config, order: &[usize]) -> Vec<StreamReport> {
    let defs = &engine.defs;
    let scope = Scope {
        settings: config.values.clone(),
        extra: BTreeMap::from([
            ("version".to_owned(), Value::from(env!("CARGO_PKG_VERSION"))),
            (
                "now".to_owned(),
                Value::from(crate::time::format_utc(crate::time::now())),
            ),
        ]),
        ..Scope::default()
    };
    // A check answers quickly: one retry, and no long wait for a rate limit.
    let mut http = config.http_options(defs);
    http.max_retries = http.max_retries.min(1);
    http.max_rate_limit_wait = http.max_rate_limit_wait.min(MAX_WAIT);
    let failed = |why: String| -> Vec<StreamReport> {
        order
            .iter()
            .map(|&i| StreamReport {
                stream: defs.streams[i].name.clone(),
                problems: vec![why.clone()],
                ..StreamReport::default()
            })
            .collect()
    };
    let client = match Client::new(defs, &scope, http, config.secrets.clone()) {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    let partition = partition(defs, order, &scope, &client).await;
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    let mut out = Vec::new();
    for &i in order {
        let def = &defs.streams[i];
        let mut report = StreamReport {
            stream: def.name.clone(),
            record_path: def.records.clone(),
            ..StreamReport::default()
        };
        let context = match context(defs, def, &partition, &found) {
            Ok(c) => c,
            Err(why) => {
                report.problems.push(why);
                found.insert(def.name.clone(), (Map::new(), false, None));
                out.push(report);
                continue;
            }
        };
        let first = probe(engine, config, &client, &scope, def, &context, &mut report).await;
        let answered = report.read;
        found.insert(def.name.clone(), (context, answered, first));
        out.push(report);
    }
    out
}

/// The first partition's context entry, or why there is none, when a checked stream is
/// partitioned.
async fn partition(
    defs: &Definitions,
    order: &[usize],
    scope: &Scope,
    client: &Client,
) -> Option<Result<(String, Value), String>> {
    let p = defs.partitions.as_ref()?;
    let needed = order.iter().any(|&i| {
        let s = &defs.streams[i];
        s.parent.is_none() && s.partitioned
    });
    if !needed {
        return None;
    }
    Some(match partitions::resolve(p, scope, client).await {
        Ok(r) => match r.values.first() {
            Some(v) => Ok((p.key.clone(), Value::String(v.value.clone()))),
            None => {
                let settings: Vec<&str> = p.sources.iter().map(|s| s.setting()).collect();
                Err(format!(
                    "no {} to read: the config's {} give none",
                    p.key,
                    settings.join(", ")
                ))
            }
        },
        Err(e) => Err(format!("listing the partitions: {e}")),
    })
}

/// The partition context of `def`: the first partition, or its parent's first record.
fn context(
    defs: &Definitions,
    def: &StreamDef,
    partition: &Option<Result<(String, Value), String>>,
    found: &BTreeMap<String, Found>,
) -> Result<Map<String, Value>, String> {
    if let Some(parent) = &def.parent {
        let Some((parent_context, answered, record)) = found.get(&parent.stream) else {
            return Err(format!("parent `{}` was not checked", parent.stream));
        };
        if !answered {
            return Err(format!(
                "not requested: parent `{}` failed, and this stream is read for its records",
                parent.stream
            ));
        }
        let Some(record) = record else {
            return Err(format!(
                "not requested: parent `{}` has no record on its first page to read it for",
                parent.stream
            ));
        };
        let mut ctx = parent_context.clone();
        for (name, pointer) in &parent.context {
            match record.pointer(pointer) {
                Some(v) if !v.is_null() => {
                    ctx.insert(name.clone(), v.clone());
                }
                _ => {
                    return Err(format!(
                        "parent.context `{name} = \"{pointer}\"` finds nothing in `{}`'s first record: {}",
                        parent.stream,
                        diagnose::missing_pointer(record, pointer)
                    ));
                }
            }
        }
        return Ok(ctx);
    }
    let mut ctx = Map::new();
    if def.partitioned && defs.partitions.is_some() {
        match partition {
            Some(Ok((k, v))) => {
                ctx.insert(k.clone(), v.clone());
            }
            Some(Err(why)) => return Err(why.clone()),
            None => {}
        }
    }
    Ok(ctx)
}

/// The stream's first request: templates filled from `scope` with `context`, and `since` (the
/// start date) where the replication places it.
fn request(
    client: &Client,
    scope: &Scope,
    def: &StreamDef,
    context: &Map<String, Value>,
    since: Option<&str>,
) -> Result<Request, Error> {
    let mut scope = scope.clone();
    scope.context = context.clone();
    scope.bookmark = since.map(str::to_owned);
    let what = |k: &str| format!("stream `{}` {k}", def.name);
    let path = scope.fill(&def.path, Target::Path, &what("path"))?;
    let mut params = scope.params(&def.params, &what("params"))?;
    if let (Replication::SinceParam { param: Some(p), .. }, Some(since)) = (&def.replication, since)
    {
        params.insert(p.clone(), since.to_owned());
    }
    if let Replication::SinceParam {
        end_param: Some(p), ..
    } = &def.replication
        && let Some(now) = scope.extra.get("now").and_then(Value::as_str)
    {
        params.insert(p.clone(), now.to_owned());
    }
    let headers = crate::engine::http::headers(&scope, &def.headers, &what("headers"))?;
    let body = def
        .body_with(&mut |t: &Template| {
            if scope.bookmark.is_none() && t.names().any(|n| n == "bookmark") {
                return Ok(None);
            }
            t.render(&scope, Target::Text).map(Some)
        })
        .map_err(|e| Error::Setup(format!("{}: {e}", what("body"))))?;
    Ok(Request {
        method: def.method,
        url: crate::engine::request::with_query(&client.url(&path), &params)?,
        headers,
        body: body.filter(|_| def.method == Method::POST),
    })
}

fn auth_kind(auth: &AuthDef) -> String {
    match auth {
        AuthDef::None => "none".into(),
        AuthDef::Bearer { scheme, .. } => format!("Authorization: {scheme} ********"),
        AuthDef::Header { name, .. } => format!("header {name}: ********"),
        AuthDef::Query { name, .. } => format!("query parameter {name}=********"),
        AuthDef::Basic { .. } => "HTTP Basic".into(),
        AuthDef::Oauth2 { .. } => "OAuth 2 bearer token".into(),
        AuthDef::FirstOf { of } => {
            let kinds: Vec<String> = of.iter().map(auth_kind).collect();
            format!("the first given of: {}", kinds.join(", "))
        }
    }
}

/// Sends the stream's first request and fills `report`; returns the first record (as the API
/// gave it) for child streams.
async fn probe(
    engine: &Engine,
    config: &Config,
    client: &Client,
    scope: &Scope,
    def: &StreamDef,
    context: &Map<String, Value>,
    report: &mut StreamReport,
) -> Option<Value> {
    let defs = &engine.defs;
    let since = bookmarks::since(None, config.start_date().as_deref(), def.lookback())
        .or_else(|| def.replication.initial().map(str::to_owned));
    let since = since.filter(|_| def.replication_key().is_some());
    let mut pager = Pager::new(&def.paginator);
    let mut scope = scope.clone();
    match crate::engine::sync::stream_zone(def, &scope, client).await {
        Ok(zone) => scope.zone = zone,
        Err(e) => {
            report.problems.push(e.to_string());
            return None;
        }
    }
    let req = match request(client, &scope, def, context, since.as_deref())
        .and_then(|r| pager.first(r))
    {
        Ok(r) => r,
        Err(e) => {
            report.problems.push(e.to_string());
            return None;
        }
    };
    let shown = |r: &Request| client.mask(&client.without_credentials(r.clone()).url);
    report.request = Some(RequestShown {
        method: format!("{:?}", def.method),
        url: shown(&req),
        auth: auth_kind(&defs.auth),
    });
    let started = Instant::now();
    let sent = client.send(def.path.source(), &req, None, &[]).await;
    report.time_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    let resp = match sent {
        Ok(r) => r,
        Err(Error::Unauthorized(m)) => {
            report.status = Some(401);
            let prefix = format!("{} answered 401 ", shown(&req));
            let message = m.strip_prefix(&prefix).unwrap_or(&m);
            report.problems.push(format!(
                "401 {message}: {}",
                diagnose::status_hint(401, &crate::credentials(defs))
            ));
            return None;
        }
        Err(e) => {
            report.problems.push(e.to_string());
            return None;
        }
    };
    report.status = Some(resp.status);
    let body = match answer(defs, def, &resp, client, report) {
        Some(b) => b,
        None => return None,
    };
    let raw = records(def, &body, report)?;
    report.read = true;
    let schema = engine
        .schemas()
        .get(&def.name)
        .cloned()
        .unwrap_or(Value::Null);
    let fields = defs.context_fields(def);
    let everything = Pipeline::new(&defs.add_fields, def, &fields, &json!({}), BTreeSet::new());
    let shaping = Pipeline::new(&defs.add_fields, def, &fields, &schema, BTreeSet::new());
    let kept: Vec<Value> = raw.iter().filter(|r| shaping.keeps(r)).cloned().collect();
    report.records = kept.len();
    if kept.len() < raw.len() {
        report.notes.push(format!(
            "{} of {} records on the page are left out by the stream's filters",
            raw.len() - kept.len(),
            raw.len()
        ));
    }
    let page = Answered {
        req: &req,
        resp: &resp,
        body: &body,
        count: raw.len(),
    };
    next_page(def, &mut pager, &page, client, report);
    bookmark(def, &kept, report);
    let validator = match schema::validator(&schema) {
        Ok(v) => Some(v),
        Err(why) => {
            report.problems.push(why);
            None
        }
    };
    let mut undeclared = BTreeSet::new();
    let mut mismatches: Vec<Mismatch> = Vec::new();
    for (n, record) in kept.iter().enumerate() {
        let url = &req.url;
        let (Ok(all), Ok(shaped)) = (
            everything.shape(record.clone(), context, url),
            shaping.shape(record.clone(), context, url),
        ) else {
            report
                .problems
                .push(format!("record {} is not a JSON object", n + 1));
            continue;
        };
        if def.keep_unknown_as.is_none() {
            undeclared.extend(schema::undeclared(&schema, &all));
        }
        if let Some(v) = &validator {
            mismatches.extend(schema::mismatches(v, n + 1, &shaped));
        }
        if n < 3 {
            report.first.push(Value::Object(shaped));
        }
    }
    if mismatches.len() > MAX_MISMATCHES {
        report.notes.push(format!(
            "{} more schema mismatches not listed",
            mismatches.len() - MAX_MISMATCHES
        ));
        mismatches.truncate(MAX_MISMATCHES);
    }
    report.mismatches = mismatches;
    report.undeclared = undeclared.into_iter().collect();
    kept.into_iter().next()
}

/// The body of a usable answer, or `None` with the reason in `report`.
fn answer(
    defs: &Definitions,
    def: &StreamDef,
    resp: &Response,
    client: &Client,
    report: &mut StreamReport,
) -> Option<Value> {
    match resp.status {
        204 => Some(Value::Null),
        200..=299 => {
            if resp.body.iter().all(u8::is_ascii_whitespace) {
                return Some(Value::Null);
            }
            match serde_json::from_slice(&resp.body) {
                Ok(v) => Some(v),
                Err(e) => {
                    let start: String = String::from_utf8_lossy(&resp.body)
                        .chars()
                        .take(80)
                        .collect();
                    report.problems.push(format!(
                        "the body is not JSON ({e}): {}",
                        client.mask(&start)
                    ));
                    None
                }
            }
        }
        status => {
            match defs.action(def, status) {
                Some(StatusAction::Empty) => {
                    report.notes.push(format!(
                        "answered {status}, which `on_status` reads as no records"
                    ));
                    return Some(Value::Null);
                }
                Some(StatusAction::SkipPartition) => report.notes.push(format!(
                    "answered {status}, which `on_status` reads as a missing partition (skipped)"
                )),
                _ => {}
            }
            let message = client.mask(&crate::engine::http::message(&resp.body));
            report.problems.push(format!(
                "{status} {message}: {}",
                diagnose::status_hint(status, &crate::credentials(defs))
            ));
            None
        }
    }
}

/// The records at the record path, or `None` with the reason in `report`.
fn records(def: &StreamDef, body: &Value, report: &mut StreamReport) -> Option<Vec<Value>> {
    if body.is_null() {
        return Some(Vec::new());
    }
    let at = if def.records.is_empty() {
        Some(body)
    } else {
        body.pointer(&def.records)
    };
    match at {
        Some(Value::Array(items)) => Some(items.clone()),
        Some(Value::Object(o)) => {
            if def.records.is_empty()
                && let Some(hint) = diagnose::envelope_hint(body)
            {
                report.notes.push(hint);
            }
            Some(vec![Value::Object(o.clone())])
        }
        Some(Value::Null) | None => {
            report.problems.push(format!(
                "record path `records = \"{}\"` finds nothing: {}",
                def.records,
                diagnose::missing_list(body, &def.records)
            ));
            None
        }
        Some(other) => {
            report.problems.push(format!(
                "record path `records = \"{}\"` holds {other}, not a list or an object",
                def.records
            ));
            None
        }
    }
}

/// A request and its answer: the parsed body and how many records it held.
struct Answered<'a> {
    req: &'a Request,
    resp: &'a Response,
    body: &'a Value,
    count: usize,
}

/// Every value the paginator reads, checked present; then the request it would make next.
fn next_page(
    def: &StreamDef,
    pager: &mut Pager<'_>,
    page: &Answered<'_>,
    client: &Client,
    report: &mut StreamReport,
) {
    let Answered {
        req,
        resp,
        body,
        count,
    } = *page;
    let (sources, last): (Vec<(&str, &ValueFrom)>, Option<&str>) = match &def.paginator {
        PaginatorDef::NextUrl { from } => (vec![("from", from)], None),
        PaginatorDef::Cursor { from, last, .. } => (vec![("from", from)], last.as_deref()),
        PaginatorDef::PageNumber {
            total_pages: Some(t),
            ..
        } => (vec![("total_pages", t)], None),
        PaginatorDef::Offset { total, last, .. } => (
            total.iter().map(|t| ("total", t)).collect(),
            last.as_deref(),
        ),
        _ => (vec![], None),
    };
    let mut absent = false;
    for (key, from) in sources {
        match from {
            ValueFrom::Pointer(p) if body.pointer(p).is_none() => {
                absent = true;
                report.problems.push(format!(
                    "paginator `{key}.pointer = \"{p}\"` is not in the body: {}",
                    diagnose::missing_pointer(body, p)
                ));
            }
            ValueFrom::Header(h) if !resp.headers.contains_key(h.as_str()) => {
                absent = true;
                report.problems.push(format!(
                    "paginator `{key}.header = \"{h}\"` is not in the answer (headers: {})",
                    diagnose::header_names(&resp.headers)
                ));
            }
            _ => {}
        }
    }
    if let Some(p) = last
        && body.pointer(p).is_none()
    {
        absent = true;
        report.problems.push(format!(
            "paginator `last = \"{p}\"` is not in the body: {}",
            diagnose::missing_pointer(body, p)
        ));
    }
    let view = PageView {
        headers: &resp.headers,
        body,
        records: count,
        link_next: resp.next.as_deref(),
    };
    match pager.next(&def.name, req, view) {
        Ok(Some(r)) => {
            report.next = Some(Next {
                url: Some(client.mask(&client.without_credentials(r).url)),
                end: None,
            });
        }
        Ok(None) => {
            let end = if absent {
                "the paginator finds no next page (see the error)".to_owned()
            } else {
                end_reason(&def.paginator, body, count)
            };
            report.next = Some(Next {
                url: None,
                end: Some(end),
            });
        }
        Err(e) => report.problems.push(e.to_string()),
    }
}

/// Why a paginator ends the list at this page.
fn end_reason(def: &PaginatorDef, body: &Value, count: usize) -> String {
    let value = |from: &ValueFrom| match from {
        ValueFrom::Pointer(p) => format!(
            "`{p}` is {}",
            body.pointer(p)
                .map_or("absent".to_owned(), Value::to_string)
        ),
        ValueFrom::Header(h) => format!("header `{h}` is empty"),
    };
    match def {
        PaginatorDef::None => "one request per list (`kind = \"none\"`)".into(),
        PaginatorDef::LinkHeader { .. } => "no `Link: <…>; rel=\"next\"` header".into(),
        PaginatorDef::NextUrl { from } => format!("the list ends here: {}", value(from)),
        PaginatorDef::Cursor { from, last, .. } => match last
            .as_deref()
            .filter(|p| body.pointer(p) == Some(&Value::Bool(true)))
        {
            Some(p) => format!("the list ends here: `{p}` is true"),
            None => format!("the list ends here: {}", value(from)),
        },
        PaginatorDef::Offset {
            last: Some(p),
            total: None,
            ..
        } if body.pointer(p) == Some(&Value::Bool(true)) => {
            format!("the list ends here: `{p}` is true")
        }
        PaginatorDef::PageNumber { .. } | PaginatorDef::Offset { .. } => {
            format!("the list ends here ({count} records on the page)")
        }
    }
}

/// The bookmark a run reading these records would write.
fn bookmark(def: &StreamDef, kept: &[Value], report: &mut StreamReport) {
    if def.parent.is_some() {
        report.bookmark = Bookmark {
            value: None,
            none: Some("a child stream keeps no bookmark; its parent's covers it".into()),
        };
        return;
    }
    let (Some(key), Some(name)) = (def.replication_key(), def.bookmark_name()) else {
        report.bookmark = Bookmark {
            value: None,
            none: Some("full_table: every run reads everything".into()),
        };
        return;
    };
    let mut best: Option<Value> = None;
    for (n, r) in kept.iter().enumerate() {
        match r.pointer(key).filter(|v| !v.is_null()) {
            Some(v) => best = bookmarks::max(best, Some(v)),
            None => {
                report.problems.push(format!(
                    "replication key `{key}` is missing from record {}: {}",
                    n + 1,
                    diagnose::missing_pointer(r, key)
                ));
                break;
            }
        }
    }
    report.bookmark = match best {
        Some(v) => Bookmark {
            value: Some(json!({ name: v })),
            none: None,
        },
        None => Bookmark {
            value: None,
            none: Some("no record on the page".into()),
        },
    };
}
