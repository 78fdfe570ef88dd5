//! Child streams: for each record of a parent page, one list per child stream, with the child's
//! context taken from the parent record. They run before the parent's next bookmark is sent, so
//! a STATE never covers a parent record whose children are not written; only the parents read
//! in this run (changed ones, for an incremental parent) get their children read. A child whose
//! complete list the parent record embeds (`parent.embedded`) takes it from there.

use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt as _;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::error::Error;
use super::job::Job;
use super::sync::{Out, Shared};

/// Reads every child stream of stream `parent` for each of `records` (raw parent records),
/// `max_concurrency` lists at a time.
pub fn run<'a>(
    sh: &'a Shared,
    parent: usize,
    context: &'a Map<String, Value>,
    records: &'a [Value],
    tx: &'a mpsc::Sender<Out>,
) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>> {
    Box::pin(async move {
        let children: Vec<usize> = sh
            .streams
            .iter()
            .enumerate()
            .filter(|(_, p)| p.parent == Some(parent))
            .map(|(i, _)| i)
            .collect();
        let mut jobs = Vec::new();
        for &c in &children {
            let Some(def) = sh.streams[c].def.parent.as_ref() else {
                continue;
            };
            for record in records {
                let mut ctx = context.clone();
                for (name, pointer) in &def.context {
                    ctx.insert(
                        name.clone(),
                        record.pointer(pointer).cloned().unwrap_or(Value::Null),
                    );
                }
                let embedded = def.embedded.as_ref().and_then(|e| e.items(record)).cloned();
                jobs.push((c, ctx, embedded));
            }
        }
        let results: Vec<Result<(), Error>> = futures_util::stream::iter(jobs)
            .map(|(c, ctx, embedded)| async move {
                let job = Job::new(sh, c, ctx, tx)?;
                match embedded {
                    Some(items) => job.embedded(&items).await,
                    None => job.run().await,
                }
            })
            .buffer_unordered(sh.concurrency.max(1))
            .collect()
            .await;
        results.into_iter().collect()
    })
}
