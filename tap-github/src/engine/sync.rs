//! The sync orchestrator: streams × partitions run concurrently (longest first, at most
//! `max_concurrency` at a time) and send pages and bookmarks through one channel to a single
//! writer. Because a partition's bookmark travels behind its records on the same channel, the
//! writer prints a STATE only after every record it covers; it prints each stream's SCHEMA
//! before anything else.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use singer::{ActivateVersion, Message, MessageWriter, Partition, Schema, State, StateMessage};
use tokio::sync::mpsc;

use super::bookmarks::{self, ETAG};
use super::catalog;
use super::definition::{Definitions, FieldSource, Order, Replication, StatusAction, StreamDef};
use super::error::Error;
use super::http::{Client, HttpOptions, Response};
use super::metrics;
use super::paginator::PageCursor;
use super::partitions;

/// Everything a sync needs besides the definitions.
#[derive(Debug)]
pub struct SyncOptions {
    /// HTTP client settings.
    pub http: HttpOptions,
    /// List settings that partition sources read (e.g. the configured partition values).
    pub settings: BTreeMap<String, Vec<String>>,
    /// Lower bound of incremental streams on a first run (RFC 3339).
    pub start_date: Option<String>,
    /// How far before the bookmark an incremental request starts.
    pub lookback: Duration,
    /// Partitions synced at the same time.
    pub max_concurrency: usize,
    /// The catalog; `None` syncs every stream.
    pub catalog: Option<singer::Catalog>,
    /// The state to resume from.
    pub state: State,
}

/// What a sync did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Records written per stream.
    pub records: BTreeMap<String, u64>,
    /// HTTP requests made.
    pub requests: u64,
    /// The final state.
    pub state: State,
}

/// What workers send to the writer.
enum Out {
    Records {
        stream: usize,
        records: Vec<Map<String, Value>>,
        version: Option<i64>,
        extracted: String,
    },
    Bookmark {
        stream: usize,
        partition: Partition,
    },
    Activate {
        stream: usize,
        version: i64,
    },
}

/// One stream as the run sees it.
struct Planned {
    def: StreamDef,
    drop: BTreeSet<String>,
    version: Option<i64>,
    /// Partitions still running, for ACTIVATE_VERSION.
    pending: AtomicUsize,
}

struct Shared {
    defs: Definitions,
    streams: Vec<Planned>,
    client: Client,
    state: State,
    start_date: Option<String>,
    lookback: Duration,
    max_retries: u32,
    backoff: Duration,
    failed: AtomicBool,
}

/// Runs a sync, writing Singer messages to `out`.
pub async fn run<W: Write + Send + 'static>(
    defs: &Definitions,
    schemas: &BTreeMap<String, Value>,
    opts: SyncOptions,
    out: W,
) -> Result<Summary, Error> {
    let (selected, unknown) = catalog::selection(opts.catalog.as_ref(), &defs.streams);
    for name in unknown {
        tracing::warn!("catalog stream `{name}` is not defined; ignored");
    }
    let version = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let version = i64::try_from(version).unwrap_or(i64::MAX);
    let streams: Vec<Planned> = defs
        .streams
        .iter()
        .filter_map(|d| {
            let drop = selected.get(&d.name)?.clone();
            Some(Planned {
                version: matches!(d.replication, Replication::FullTable).then_some(version),
                def: d.clone(),
                drop,
                pending: AtomicUsize::new(0),
            })
        })
        .collect();
    let schema_messages: Vec<Message> = streams
        .iter()
        .map(|p| {
            let schema = schemas.get(&p.def.name).cloned().unwrap_or(Value::Null);
            Message::Schema(Schema {
                stream: p.def.name.clone(),
                schema: catalog::trimmed(&schema, &p.drop),
                key_properties: p.def.primary_key.clone(),
                bookmark_properties: p
                    .def
                    .bookmark_name()
                    .filter(|k| !k.contains('.'))
                    .map(|k| vec![k]),
            })
        })
        .collect();
    let max_retries = opts.http.max_retries;
    let backoff = opts.http.backoff_base;
    let client = Client::new(opts.http)?;
    let values = if streams.is_empty() {
        Vec::new()
    } else {
        partitions::resolve(&defs.partitions, &opts.settings, &client).await?
    };

    // Jobs: every stream × partition, the heaviest streams first.
    let mut jobs: Vec<(usize, String)> = (0..streams.len())
        .flat_map(|s| values.iter().map(move |v| (s, v.clone())))
        .collect();
    jobs.sort_by_key(|(s, _)| std::cmp::Reverse(streams[*s].def.weight));
    for (s, _) in &jobs {
        streams[*s].pending.fetch_add(1, Ordering::Relaxed);
    }
    let names: Vec<String> = streams.iter().map(|p| p.def.name.clone()).collect();
    let shared = Arc::new(Shared {
        defs: defs.clone(),
        streams,
        client,
        state: opts.state.clone(),
        start_date: opts.start_date,
        lookback: opts.lookback,
        max_retries,
        backoff,
        failed: AtomicBool::new(false),
    });

    let (tx, rx) = mpsc::channel::<Out>(64);
    let writer =
        tokio::task::spawn_blocking(move || write_all(out, rx, schema_messages, names, opts.state));

    // Streams whose every partition is already done (none at all) are activated right away.
    for (s, p) in shared.streams.iter().enumerate() {
        if let (Some(version), 0) = (p.version, p.pending.load(Ordering::Relaxed)) {
            let _ = tx.send(Out::Activate { stream: s, version }).await;
        }
    }
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let mut workers = Vec::new();
    for _ in 0..opts.max_concurrency.max(1) {
        let (shared, queue, tx) = (shared.clone(), queue.clone(), tx.clone());
        workers.push(tokio::spawn(async move {
            loop {
                if shared.failed.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let Some((s, value)) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                    return Ok(());
                };
                if let Err(e) = sync_partition(&shared, s, &value, &tx).await {
                    shared.failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                let p = &shared.streams[s];
                if p.pending.fetch_sub(1, Ordering::AcqRel) == 1
                    && let Some(version) = p.version
                    && tx.send(Out::Activate { stream: s, version }).await.is_err()
                {
                    return Ok(());
                }
            }
        }));
    }
    drop(tx);
    let mut first_error = None;
    for w in workers {
        let result = w
            .await
            .map_err(|e| Error::Http(format!("worker panicked: {e}")))
            .and_then(|r| r);
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    let written = writer
        .await
        .map_err(|e| Error::Http(format!("writer panicked: {e}")))?;
    shared.client.metrics.print_counts();
    if let Some(e) = first_error {
        return Err(e);
    }
    let (records, state) = written?;
    Ok(Summary {
        records,
        requests: shared.client.metrics.total(),
        state,
    })
}

/// The writer: SCHEMAs first, then pages, bookmarks (applied to the state, then printed as
/// STATE) and ACTIVATE_VERSIONs in the order they arrive; a final STATE at the end.
fn write_all<W: Write>(
    out: W,
    mut rx: mpsc::Receiver<Out>,
    schemas: Vec<Message>,
    names: Vec<String>,
    mut state: State,
) -> Result<(BTreeMap<String, u64>, State), Error> {
    let mut w = MessageWriter::new(BufWriter::with_capacity(1 << 16, out));
    let mut counts: BTreeMap<String, u64> = names.iter().map(|n| (n.clone(), 0)).collect();
    for s in &schemas {
        w.write(s)?;
    }
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Out::Records {
                stream,
                records,
                version,
                extracted,
            } => {
                for r in &records {
                    w.write_record(&names[stream], r, Some(&extracted), version)?;
                }
                *counts.entry(names[stream].clone()).or_default() += records.len() as u64;
            }
            Out::Bookmark { stream, partition } => {
                state.set_partition(&names[stream], &partition);
                w.write(&Message::State(StateMessage {
                    value: state.to_value(),
                }))?;
            }
            Out::Activate { stream, version } => {
                w.write(&Message::ActivateVersion(ActivateVersion {
                    stream: names[stream].clone(),
                    version,
                }))?;
            }
        }
    }
    w.write(&Message::State(StateMessage {
        value: state.to_value(),
    }))?;
    w.flush()?;
    Ok((counts, state))
}

/// Syncs one stream × partition.
async fn sync_partition(
    sh: &Shared,
    s: usize,
    value: &str,
    tx: &mpsc::Sender<Out>,
) -> Result<(), Error> {
    let planned = &sh.streams[s];
    let def = &planned.def;
    let mut context = Map::new();
    context.insert(
        sh.defs.partitions.key.clone(),
        Value::String(value.to_owned()),
    );
    let prior = sh.state.partition(&def.name, &context);
    let bookmark = prior.as_ref().and_then(|p| p.replication_key_value.clone());
    let prior_etag = prior
        .as_ref()
        .and_then(|p| p.extra.get(ETAG))
        .and_then(Value::as_str)
        .map(str::to_owned);

    let path = def
        .path
        .replace(&format!("{{{}}}", sh.defs.partitions.key), value);
    let mut params = def.params.clone();
    if let Replication::SinceParam { param, .. } = &def.replication
        && let Some(since) = bookmarks::since(
            bookmark.as_ref().and_then(Value::as_str),
            sh.start_date.as_deref(),
            sh.lookback,
        )
    {
        params.insert(param.clone(), since);
    }
    // Early-stop streams start from the start date on a first run.
    let floor = match &def.replication {
        Replication::EarlyStop { .. } => bookmark
            .clone()
            .or_else(|| sh.start_date.clone().map(Value::String)),
        _ => None,
    };
    let first = super::http::with_query(&sh.client.url(&path), &params)?;
    let incremental = !matches!(def.replication, Replication::FullTable);
    let ascending = matches!(
        def.replication,
        Replication::SinceParam {
            order: Order::Ascending,
            ..
        }
    );
    let key_name = def.bookmark_name();

    let mut cursor = PageCursor::new(def.paginator, &first);
    let mut url = first;
    let mut is_first = true;
    let mut etag: Option<String> = None;
    let mut max_seen: Option<Value> = None;
    let mut count = 0u64;
    let mut status_retries = 0u32;
    loop {
        let conditional = if is_first && incremental {
            prior_etag.as_deref()
        } else {
            None
        };
        let resp = sh
            .client
            .get(&def.path, &url, &def.headers, conditional)
            .await?;
        let records = match resp.status {
            304 => {
                tracing::info!("{}: {value}: not modified", def.name);
                break;
            }
            204 => Vec::new(),
            200..=299 => parse_records(def, &url, &resp)?,
            status => match sh.defs.action(def, status) {
                Some(StatusAction::SkipPartition) => {
                    tracing::warn!("{}: {url} answered {status}; skipping {value}", def.name);
                    return Ok(());
                }
                Some(StatusAction::Empty) => Vec::new(),
                Some(StatusAction::Retry) if status_retries < sh.max_retries => {
                    status_retries += 1;
                    tokio::time::sleep(sh.backoff.saturating_mul(1 << status_retries.min(10)))
                        .await;
                    continue;
                }
                _ => {
                    let message = String::from_utf8_lossy(&resp.body)
                        .chars()
                        .take(200)
                        .collect();
                    return Err(Error::Status {
                        stream: def.name.clone(),
                        url,
                        status,
                        message,
                    });
                }
            },
        };
        // The ETag is worth keeping when a 304 for it proves nothing changed: one page held
        // everything, or the list is newest first so any change reaches the first page.
        if is_first && incremental && (resp.next.is_none() || !ascending) {
            etag = resp.etag.clone();
        }
        is_first = false;
        let mut stop = false;
        let mut page = Vec::with_capacity(records.len());
        for mut record in records {
            if let Some(key) = def.replication_key() {
                let v = record.pointer(key).cloned();
                if let (Some(floor), Some(v)) = (&floor, &v)
                    && bookmarks::compare(v, floor) == std::cmp::Ordering::Less
                {
                    stop = true;
                    break;
                }
                if ascending
                    && let (Some(m), Some(v)) = (&max_seen, &v)
                    && bookmarks::compare(v, m) == std::cmp::Ordering::Less
                {
                    return Err(Error::Unsorted {
                        stream: def.name.clone(),
                        earlier: m.to_string(),
                        later: v.to_string(),
                    });
                }
                max_seen = bookmarks::max(max_seen, v.as_ref());
            }
            let Value::Object(map) = &mut record else {
                return Err(Error::Body {
                    stream: def.name.clone(),
                    url: url.clone(),
                    why: "a record is not an object".into(),
                });
            };
            add_fields(&sh.defs, def, &context, map);
            map.retain(|k, _| !planned.drop.contains(k));
            page.push(std::mem::take(map));
        }
        count += page.len() as u64;
        let extracted = bookmarks::format_utc(time::OffsetDateTime::now_utc());
        if !page.is_empty()
            && tx
                .send(Out::Records {
                    stream: s,
                    records: page,
                    version: planned.version,
                    extracted,
                })
                .await
                .is_err()
        {
            return Ok(());
        }
        let next = if stop {
            None
        } else {
            cursor.advance(&def.name, &resp)?
        };
        if ascending && next.is_some() {
            // Mid-partition progress: everything up to max_seen is written.
            let value = bookmarks::max(max_seen.clone(), bookmark.as_ref());
            let _ = tx
                .send(Out::Bookmark {
                    stream: s,
                    partition: bookmarks::partition(
                        &context,
                        key_name.clone(),
                        value,
                        prior_etag.as_deref(),
                    ),
                })
                .await;
        }
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    metrics::record_count(&def.name, &context, count);
    if incremental {
        let value = bookmarks::max(max_seen, bookmark.as_ref());
        let etag = etag.or(prior_etag);
        if value.is_some() || etag.is_some() {
            let _ = tx
                .send(Out::Bookmark {
                    stream: s,
                    partition: bookmarks::partition(&context, key_name, value, etag.as_deref()),
                })
                .await;
        }
    }
    Ok(())
}

/// The records of a response body, per the stream's selector.
fn parse_records(def: &StreamDef, url: &str, resp: &Response) -> Result<Vec<Value>, Error> {
    let bad = |why: String| Error::Body {
        stream: def.name.clone(),
        url: url.to_owned(),
        why,
    };
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let body: Value =
        serde_json::from_slice(&resp.body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let at = if def.records.is_empty() {
        Some(body)
    } else {
        body.pointer(&def.records).cloned()
    };
    match at {
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Object(o)) => Ok(vec![Value::Object(o)]),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(other) => Err(bad(format!(
            "records are neither an array nor an object: {}",
            other.to_string().chars().take(80).collect::<String>()
        ))),
    }
}

fn add_fields(
    defs: &Definitions,
    def: &StreamDef,
    context: &Map<String, Value>,
    record: &mut Map<String, Value>,
) {
    for f in defs.add_fields.iter().chain(&def.add_fields) {
        let value = match &f.from {
            FieldSource::Context(k) => context.get(k).cloned(),
            FieldSource::Pointer(p) => {
                let v = Value::Object(std::mem::take(record));
                let found = v.pointer(p).cloned();
                if let Value::Object(o) = v {
                    *record = o;
                }
                found
            }
        };
        record.insert(f.name.clone(), value.unwrap_or(Value::Null));
    }
}
