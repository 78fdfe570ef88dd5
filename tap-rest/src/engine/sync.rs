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

use super::catalog;
use super::error::Error;
use super::http::{Client, HttpOptions};
use super::job::Job;
use super::partitions;
use super::records::Pipeline;
use super::request::Scope;
use super::shard::Shard;
use crate::defs::partitions::Missing;
use crate::defs::stream::Zone;
use crate::defs::{Definitions, Replication, StreamDef};

/// Everything a sync needs besides the definitions.
#[derive(Debug)]
pub struct SyncOptions {
    /// HTTP client settings.
    pub http: HttpOptions,
    /// The resolved settings (config values, defaults, environment fallbacks).
    pub settings: Map<String, Value>,
    /// Values never to print (secret settings).
    pub secrets: Vec<String>,
    /// Lower bound of incremental streams on a first run (RFC 3339).
    pub start_date: Option<String>,
    /// How far before the bookmark an incremental request starts.
    pub lookback: Lookback,
    /// Partitions synced at the same time.
    pub max_concurrency: usize,
    /// The catalog; `None` syncs every stream.
    pub catalog: Option<singer::Catalog>,
    /// The state to resume from.
    pub state: State,
}

/// Lookback windows set by the configuration, over the definitions' own per stream.
#[derive(Debug, Clone, Default)]
pub struct Lookback {
    /// For every stream: the definitions' lookback is raised to at least this.
    pub all: Duration,
    /// Per stream, replacing both the definitions' lookback and `all`.
    pub streams: BTreeMap<String, Duration>,
}

impl Lookback {
    /// The lookback of stream `def`.
    pub fn of(&self, def: &StreamDef) -> Duration {
        self.streams
            .get(&def.name)
            .copied()
            .unwrap_or_else(|| def.lookback().max(self.all))
    }
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
    /// Partitions skipped after a 404 with a warning.
    pub skipped: Vec<String>,
}

/// What workers send to the writer.
pub(crate) enum Out {
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
pub(crate) struct Planned {
    pub def: StreamDef,
    /// Top-level fields left out of its records.
    pub drop: BTreeSet<String>,
    /// How its records are shaped.
    pub pipeline: Pipeline,
    /// Its records are written (false: it is read only to drive its children).
    pub emit: bool,
    /// The index of its parent stream.
    pub parent: Option<usize>,
    /// Some stream has it as its parent.
    pub has_children: bool,
    /// The table version of a top-level full-table stream.
    pub version: Option<i64>,
    /// Partitions still running, for ACTIVATE_VERSION.
    pending: AtomicUsize,
}

/// What every job shares.
pub(crate) struct Shared {
    pub defs: Definitions,
    pub streams: Vec<Planned>,
    pub client: Arc<Client>,
    pub state: State,
    /// Settings, for templates.
    pub scope: Scope,
    /// The zone of each stream whose bookmark placeholders need one.
    pub zones: BTreeMap<usize, jiff::tz::TimeZone>,
    pub start_date: Option<String>,
    /// When the run started (RFC 3339), for end parameters.
    pub run_started: String,
    pub lookback: Lookback,
    pub concurrency: usize,
    /// Partitions the user named that answered 404.
    missing: Mutex<BTreeSet<String>>,
    /// Partitions skipped with a warning.
    skipped: Mutex<BTreeSet<String>>,
    /// Records of each child stream, printed as one metric at the end.
    child_counts: Mutex<BTreeMap<usize, u64>>,
    failed: AtomicBool,
}

impl Shared {
    /// Notes that `job`'s partition answered `status` at `url`: a failure at the end of the run
    /// when the user named it, else a warning.
    pub fn missing(&self, job: &Job<'_>, url: &str, status: u16) {
        let what = if job.def.parent.is_some() {
            format!("{} of {}", job.def.name, job.label)
        } else {
            format!("{} {}", self.partition_noun(), job.label)
        };
        if job.missing == Missing::Fail {
            tracing::error!(
                "{}: {url} answered {status}: {what} was not found",
                job.def.name
            );
            if let Ok(mut m) = self.missing.lock() {
                m.insert(what);
            }
        } else {
            tracing::warn!("{}: {url} answered {status}; skipping {what}", job.def.name);
            if let Ok(mut m) = self.skipped.lock() {
                m.insert(what);
            }
        }
    }

    /// Whether a partition the user named was not found: the run will fail, and no full-table
    /// stream is activated (its ACTIVATE_VERSION would retire that partition's earlier rows).
    pub fn any_missing(&self) -> bool {
        self.missing.lock().map_or(true, |m| !m.is_empty())
    }

    /// Adds `n` records of child stream `s` to its total.
    pub fn child_records(&self, s: usize, n: u64) {
        if let Ok(mut c) = self.child_counts.lock() {
            *c.entry(s).or_default() += n;
        }
    }

    fn partition_noun(&self) -> &str {
        self.defs
            .partitions
            .as_ref()
            .map_or("partition", |p| p.key.as_str())
    }
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
    let mut streams = plan(defs, schemas, &selected);
    let shard = Shard::from_settings(&opts.settings)?;
    let schema_messages: Vec<Message> = streams
        .iter()
        .filter(|p| p.emit)
        .map(|p| {
            let schema = schemas.get(&p.def.name).cloned().unwrap_or(Value::Null);
            Message::Schema(Schema {
                stream: p.def.name.clone(),
                schema: catalog::trimmed(&schema, &p.drop),
                key_properties: p.def.primary_key.clone(),
                bookmark_properties: p
                    .def
                    .bookmark_name()
                    .filter(|k| !k.contains('.') && p.def.incremental())
                    .map(|k| vec![k]),
            })
        })
        .collect();
    let scope = Scope {
        settings: opts.settings.clone(),
        extra: BTreeMap::from([
            ("version".to_owned(), Value::from(env!("CARGO_PKG_VERSION"))),
            (
                "now".to_owned(),
                Value::from(crate::time::format_utc(crate::time::now())),
            ),
        ]),
        ..Scope::default()
    };
    let client = Client::new(defs, &scope, opts.http, opts.secrets)?;
    let zones = zones(&streams, &scope, &client).await?;
    let partitioned = streams
        .iter()
        .any(|p| p.parent.is_none() && p.def.partitioned);
    let resolved = match (&defs.partitions, partitioned) {
        (Some(p), true) => partitions::resolve(p, &scope, &client).await?,
        _ => partitions::Resolved::default(),
    };

    // Jobs: every top-level stream × partition (of the shard), the heaviest streams first.
    let key = defs.partitions.as_ref().map(|p| p.key.clone());
    let case_insensitive = defs.partitions.as_ref().is_some_and(|p| p.case_insensitive);
    let mut jobs: Vec<(usize, Map<String, Value>, Missing)> = Vec::new();
    for (s, p) in streams.iter_mut().enumerate() {
        if p.parent.is_some() {
            continue;
        }
        if let Some(shard) = shard
            && (p.version.is_some() || !p.def.partitioned || key.is_none())
        {
            tracing::info!(
                "{}: not run by shard {}/{} (full-table or unpartitioned streams run unsharded)",
                p.def.name,
                shard.index,
                shard.count
            );
            p.version = None;
            continue;
        }
        match (&key, p.def.partitioned) {
            (Some(key), true) => jobs.extend(
                resolved
                    .values
                    .iter()
                    .filter(|v| shard.is_none_or(|shard| shard.holds(&v.value, case_insensitive)))
                    .map(|v| {
                        let mut ctx = Map::new();
                        ctx.insert(key.clone(), Value::String(v.value.clone()));
                        (s, ctx, v.missing)
                    }),
            ),
            _ => jobs.push((s, Map::new(), Missing::Fail)),
        }
    }
    jobs.sort_by_key(|(s, ..)| std::cmp::Reverse(streams[*s].def.weight));
    for (s, ..) in &jobs {
        streams[*s].pending.fetch_add(1, Ordering::Relaxed);
    }
    let names: Vec<String> = streams.iter().map(|p| p.def.name.clone()).collect();
    let shared = Arc::new(Shared {
        defs: defs.clone(),
        streams,
        client: Arc::new(client),
        state: opts.state.clone(),
        scope,
        zones,
        start_date: opts.start_date,
        run_started: crate::time::format_utc(crate::time::now()),
        lookback: opts.lookback,
        concurrency: opts.max_concurrency.max(1),
        missing: Mutex::new(resolved.missing.into_iter().collect()),
        skipped: Mutex::new(BTreeSet::new()),
        child_counts: Mutex::new(BTreeMap::new()),
        failed: AtomicBool::new(false),
    });

    let (tx, rx) = mpsc::channel::<Out>(64);
    let writer =
        tokio::task::spawn_blocking(move || write_all(out, rx, schema_messages, names, opts.state));

    // Streams whose every partition is already done (none at all) are activated right away.
    for (s, p) in shared.streams.iter().enumerate() {
        if let (Some(version), 0, false) = (
            p.version,
            p.pending.load(Ordering::Relaxed),
            shared.any_missing(),
        ) {
            let _ = tx.send(Out::Activate { stream: s, version }).await;
        }
    }
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let mut workers = Vec::new();
    for _ in 0..shared.concurrency {
        let (shared, queue, tx) = (shared.clone(), queue.clone(), tx.clone());
        workers.push(tokio::spawn(async move {
            loop {
                if shared.failed.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let Some((s, context, missing)) = queue.lock().ok().and_then(|mut q| q.pop_front())
                else {
                    return Ok(());
                };
                let run = async {
                    let mut job = Job::new(&shared, s, context, &tx)?;
                    job.missing = missing;
                    job.run().await
                };
                if let Err(e) = run.await {
                    shared.failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                let p = &shared.streams[s];
                if p.pending.fetch_sub(1, Ordering::AcqRel) == 1
                    && let Some(version) = p.version
                    && !shared.any_missing()
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
    for (s, n) in shared
        .child_counts
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default()
    {
        super::metrics::record_count(&shared.streams[s].def.name, &Map::new(), n);
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let (records, state) = written?;
    let missing: Vec<String> = shared
        .missing
        .lock()
        .map(|m| m.iter().cloned().collect())
        .unwrap_or_default();
    if !missing.is_empty() {
        return Err(Error::Missing(missing));
    }
    Ok(Summary {
        records,
        requests: shared.client.metrics.total(),
        state,
        skipped: shared
            .skipped
            .lock()
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default(),
    })
}

/// The streams of the run: the selected ones, and the parents they need (read only to drive
/// them), in the definitions' order.
fn plan(
    defs: &Definitions,
    schemas: &BTreeMap<String, Value>,
    selected: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<Planned> {
    let mut needed: BTreeSet<&str> = selected.keys().map(String::as_str).collect();
    let mut grew = true;
    while grew {
        grew = false;
        for d in &defs.streams {
            if let Some(p) = &d.parent
                && needed.contains(d.name.as_str())
                && needed.insert(p.stream.as_str())
            {
                grew = true;
            }
        }
    }
    let version = crate::time::now().as_millisecond();
    let kept: Vec<&StreamDef> = defs
        .streams
        .iter()
        .filter(|d| needed.contains(d.name.as_str()))
        .collect();
    let index = |name: &str| kept.iter().position(|d| d.name == name);
    kept.iter()
        .map(|d| {
            let drop = selected.get(&d.name).cloned().unwrap_or_default();
            let schema = schemas.get(&d.name).cloned().unwrap_or(Value::Null);
            Planned {
                pipeline: Pipeline::new(
                    &defs.add_fields,
                    d,
                    &defs.context_fields(d),
                    &schema,
                    drop.clone(),
                ),
                emit: selected.contains_key(&d.name),
                parent: d.parent.as_ref().and_then(|p| index(&p.stream)),
                has_children: kept
                    .iter()
                    .any(|c| c.parent.as_ref().is_some_and(|p| p.stream == d.name)),
                version: (matches!(d.replication, Replication::FullTable) && d.parent.is_none())
                    .then_some(version),
                def: (*d).clone(),
                drop,
                pending: AtomicUsize::new(0),
            }
        })
        .collect()
}

/// The time zone of each stream whose bookmark placeholders need one other than UTC.
async fn zones(
    streams: &[Planned],
    scope: &Scope,
    client: &Client,
) -> Result<BTreeMap<usize, jiff::tz::TimeZone>, Error> {
    let mut out = BTreeMap::new();
    for (s, p) in streams.iter().enumerate() {
        if let Some(zone) = stream_zone(&p.def, scope, client).await? {
            out.insert(s, zone);
        }
    }
    Ok(out)
}

/// The time zone `def`'s bookmark placeholders are written in, when it is not UTC: named, from
/// a setting, or asked from the API.
pub(crate) async fn stream_zone(
    def: &StreamDef,
    scope: &Scope,
    client: &Client,
) -> Result<Option<jiff::tz::TimeZone>, Error> {
    let Replication::SinceParam { timezone, .. } = &def.replication else {
        return Ok(None);
    };
    let name = match timezone {
        Zone::Utc => return Ok(None),
        Zone::Name(n) => n.clone(),
        Zone::Setting(setting) => match scope.settings.get(setting).and_then(Value::as_str) {
            Some(n) => n.to_owned(),
            None => {
                return Err(Error::Setup(format!(
                    "stream `{}`: its time zone comes from setting `{setting}`, which is not set",
                    def.name
                )));
            }
        },
        Zone::Request { path, pointer } => {
            let url = client.url(&scope.fill(
                path,
                crate::defs::template::Target::Path,
                "timezone.path",
            )?);
            let resp = client
                .send(
                    path.source(),
                    &super::request::Request::get(url.clone()),
                    None,
                    &[],
                )
                .await?;
            let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
            match body.pointer(pointer).and_then(Value::as_str) {
                Some(n) => n.to_owned(),
                None => {
                    return Err(Error::Setup(format!(
                        "stream `{}`: {url} gave no time zone at `{pointer}`",
                        def.name
                    )));
                }
            }
        }
    };
    jiff::tz::TimeZone::get(&name)
        .map(Some)
        .map_err(|e| Error::Setup(format!("stream `{}`: time zone `{name}`: {e}", def.name)))
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
