//! The connection on its own thread, so PostgreSQL ingests one batch while the loader encodes
//! the next. Jobs run in order; a call waits for its answer (and so for every job before it),
//! a batch job does not: its counts, or its error, are collected at the next call.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use postgres::Client;
use target_core::{Counts, DbError};

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// A connection owned by a worker thread.
pub struct Worker {
    jobs: Option<SyncSender<Job>>,
    done_tx: Sender<(String, Result<Counts, DbError>)>,
    done: Receiver<(String, Result<Counts, DbError>)>,
    /// Counts of finished batch jobs per table, not yet handed out.
    counts: HashMap<String, Counts>,
    /// Buffers batch jobs are done with, to be filled again (fresh pages cost the kernel).
    spare_tx: Sender<Vec<u8>>,
    spare: Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Moves `client` onto a new thread. At most two jobs wait while another runs: enough to
    /// keep the server busy while the loader waits for a commit, bounded for memory.
    pub fn new(mut client: Client) -> Self {
        let (tx, rx) = mpsc::sync_channel::<Job>(2);
        let thread = std::thread::spawn(move || {
            for job in rx {
                job(&mut client);
            }
        });
        let (done_tx, done) = mpsc::channel();
        let (spare_tx, spare) = mpsc::channel();
        Self {
            jobs: Some(tx),
            done_tx,
            done,
            counts: HashMap::new(),
            spare_tx,
            spare,
            thread: Some(thread),
        }
    }

    fn send(&self, job: Job) -> Result<(), DbError> {
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| "the database connection's thread has ended".into())
    }

    /// Runs `f` on the connection and waits for its result; fails first with the error of an
    /// earlier batch job, if one failed.
    pub fn call<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<R, DbError> + Send + 'static,
    ) -> Result<R, DbError> {
        let (tx, rx) = mpsc::channel();
        self.send(Box::new(move |c| {
            let _ = tx.send(f(c));
        }))?;
        let result = rx
            .recv()
            .map_err(|_| DbError::from("the database connection's thread has ended"))?;
        self.collect()?;
        result
    }

    /// Queues a batch job for `table`; its counts are handed out by [`Worker::take_counts`].
    pub fn batch(
        &mut self,
        table: &str,
        f: impl FnOnce(&mut Client) -> Result<Counts, DbError> + Send + 'static,
    ) -> Result<(), DbError> {
        let done = self.done_tx.clone();
        let table = table.to_string();
        self.send(Box::new(move |c| {
            let _ = done.send((table, f(c)));
        }))?;
        self.collect()
    }

    /// Gathers finished batch jobs; the first error among them is returned.
    fn collect(&mut self) -> Result<(), DbError> {
        let mut first = None;
        while let Ok((table, result)) = self.done.try_recv() {
            match result {
                Ok(c) => {
                    let sum = self.counts.entry(table).or_default();
                    sum.inserted += c.inserted;
                    sum.updated += c.updated;
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Where a batch job returns its buffer when done with it.
    pub fn recycler(&self) -> Sender<Vec<u8>> {
        self.spare_tx.clone()
    }

    /// An empty buffer of at least `capacity` bytes, reused when one came back.
    pub fn buffer(&self, capacity: usize) -> Vec<u8> {
        match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(capacity),
        }
    }

    /// Runs `f` on the connection without waiting; its error, if any, comes with the next call.
    pub fn spawn(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<(), DbError> + Send + 'static,
    ) -> Result<(), DbError> {
        self.batch("", move |c| f(c).map(|()| Counts::default()))
    }

    /// Counts of every table's finished batch jobs since the last time.
    pub fn take_all_counts(&mut self) -> Vec<(String, Counts)> {
        self.counts.drain().filter(|(t, _)| !t.is_empty()).collect()
    }

    /// Counts of `table`'s finished batch jobs since the last time.
    pub fn take_counts(&mut self, table: &str) -> Counts {
        self.counts.remove(table).unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the queue ends the thread once its jobs are done.
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
