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
use super::definition::{Definitions, Replication, StreamDef};
use super::error::Error;
use super::http::{Client, HttpOptions};
use super::partition;
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
}

/// What workers send to the writer.
pub(super) enum Out {
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
pub(super) struct Planned {
    pub def: StreamDef,
    /// Top-level fields left out of its records.
    pub drop: BTreeSet<String>,
    /// The table version of a full-table stream.
    pub version: Option<i64>,
    /// Partitions still running, for ACTIVATE_VERSION.
    pending: AtomicUsize,
}

/// What every partition job shares.
pub(super) struct Shared {
    pub defs: Definitions,
    pub streams: Vec<Planned>,
    pub client: Client,
    pub state: State,
    pub start_date: Option<String>,
    pub lookback: Lookback,
    pub max_retries: u32,
    pub backoff: Duration,
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
                if let Err(e) = partition::sync(&shared, s, &value, &tx).await {
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
