//! Pages fetched ahead of a walk: once the first answer tells how many pages there are, the
//! next ones are requested at once, each in a task of its own, at most a window ahead of the
//! page the walk is at; the walk takes their answers one by one, in order. The client's budget
//! bounds the requests in flight across every walk; a walk that stops early aborts the rest.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::error::Error;
use super::http::{Client, Response};
use super::paginator::Plan;
use super::request::Request;

/// The pages of a plan being fetched ahead.
pub struct Prefetch {
    client: Arc<Client>,
    endpoint: String,
    retry: Arc<[u16]>,
    plan: Plan,
    /// The next page number to start.
    next: u64,
    window: usize,
    /// Started pages, in order: the request's identity and its task.
    started: VecDeque<(String, JoinHandle<Result<Response, Error>>)>,
}

impl Prefetch {
    /// Starts fetching the pages of `plan`, `window` at most ahead of the walk.
    pub fn start(
        client: Arc<Client>,
        endpoint: &str,
        retry: Vec<u16>,
        plan: Plan,
        window: usize,
    ) -> Result<Prefetch, Error> {
        let mut p = Prefetch {
            client,
            endpoint: endpoint.to_owned(),
            retry: retry.into(),
            next: plan.pages.0,
            plan,
            window: window.max(1),
            started: VecDeque::new(),
        };
        p.top_up()?;
        Ok(p)
    }

    fn top_up(&mut self) -> Result<(), Error> {
        while self.started.len() < self.window && self.next <= self.plan.pages.1 {
            let req = self
                .client
                .without_credentials(self.plan.request(self.next)?);
            self.next += 1;
            let (client, endpoint, retry) = (
                self.client.clone(),
                self.endpoint.clone(),
                self.retry.clone(),
            );
            let identity = req.identity();
            let task =
                tokio::spawn(async move { client.send(&endpoint, &req, None, &retry).await });
            self.started.push_back((identity, task));
        }
        Ok(())
    }

    /// The answer to `req` when it is the next page fetched ahead; `None` otherwise (the walk
    /// went another way: nothing more is fetched ahead).
    pub async fn take(&mut self, req: &Request) -> Option<Result<Response, Error>> {
        if self
            .started
            .front()
            .is_none_or(|(identity, _)| *identity != req.identity())
        {
            self.stop();
            return None;
        }
        let (_, task) = self.started.pop_front()?;
        let answer = task
            .await
            .map_err(|e| Error::Http(format!("a page fetched ahead failed: {e}")))
            .and_then(|r| r);
        Some(self.top_up().and(answer))
    }

    fn stop(&mut self) {
        self.next = self.plan.pages.1 + 1;
        for (_, task) in self.started.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.stop();
    }
}
