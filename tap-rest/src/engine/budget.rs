//! The budget of requests in flight that every stream, partition and page shares. It starts at
//! the configured maximum, halves when the API answers with a secondary rate limit (an answer
//! that asks to slow down while requests remain), and grows back by one after every
//! [`GROW_AFTER`] answers that were not limited.

use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Answers not limited after which the budget grows by one request in flight.
pub const GROW_AFTER: usize = 20;

/// Requests in flight: at most the current limit, which adapts between 1 and the maximum.
#[derive(Debug)]
pub struct Budget {
    slots: Semaphore,
    max: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    limit: usize,
    /// Permits in use that are given back to nobody when released (the limit went down while
    /// they were out).
    owed: usize,
    successes: usize,
    /// When the limit was last cut: an answer to a request sent before it does not cut again.
    cut_at: Option<Instant>,
}

/// One request's place in the budget, given back when dropped.
pub struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    budget: &'a Budget,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        if let Ok(mut st) = self.budget.state.lock()
            && st.owed > 0
        {
            st.owed -= 1;
            permit.forget();
        }
    }
}

impl Budget {
    /// A budget of `max` requests in flight (at least one).
    pub fn new(max: usize) -> Budget {
        let max = max.max(1);
        Budget {
            slots: Semaphore::new(max),
            max,
            state: Mutex::new(State {
                limit: max,
                owed: 0,
                successes: 0,
                cut_at: None,
            }),
        }
    }

    /// The configured maximum.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state.lock().map_or(self.max, |st| st.limit)
    }

    /// Waits for a place in the budget.
    pub async fn acquire(&self) -> Slot<'_> {
        Slot {
            // The semaphore is never closed, so acquiring only waits.
            permit: self.slots.acquire().await.ok(),
            budget: self,
        }
    }

    /// Halves the limit after a secondary rate limit on a request sent at `sent`; `(before,
    /// after)` when it changed (not for a request sent before the last cut, nor below one).
    pub fn cut(&self, sent: Instant) -> Option<(usize, usize)> {
        let mut st = self.state.lock().ok()?;
        if st.cut_at.is_some_and(|at| sent < at) || st.limit <= 1 {
            return None;
        }
        let before = st.limit;
        st.limit = before / 2;
        st.successes = 0;
        st.cut_at = Some(Instant::now());
        let fewer = before - st.limit;
        st.owed += fewer - self.slots.forget_permits(fewer);
        Some((before, st.limit))
    }

    /// Counts an answer that was not limited; every [`GROW_AFTER`] of them the limit grows by
    /// one, up to the maximum.
    pub fn success(&self) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if st.limit >= self.max {
            return;
        }
        st.successes += 1;
        if st.successes < GROW_AFTER {
            return;
        }
        st.successes = 0;
        st.limit += 1;
        if st.owed > 0 {
            st.owed -= 1;
        } else {
            self.slots.add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_on_a_cut_and_grows_back_one_by_one() {
        let b = Budget::new(8);
        let held: Vec<Slot<'_>> = vec![b.acquire().await, b.acquire().await];
        assert_eq!(b.cut(Instant::now()), Some((8, 4)));
        assert_eq!(b.slots.available_permits(), 2, "4 allowed, 2 out");
        let sent_before = Instant::now() - std::time::Duration::from_secs(1);
        assert_eq!(b.cut(sent_before), None, "a request sent before the cut");
        assert_eq!(b.cut(Instant::now()), Some((4, 2)));
        assert_eq!(b.slots.available_permits(), 0);
        drop(held);
        assert_eq!(b.slots.available_permits(), 2, "2 allowed, none out");
        for _ in 0..GROW_AFTER - 1 {
            b.success();
        }
        assert_eq!(b.limit(), 2);
        b.success();
        assert_eq!((b.limit(), b.slots.available_permits()), (3, 3));
        for _ in 0..10 * GROW_AFTER {
            b.success();
        }
        assert_eq!((b.limit(), b.slots.available_permits()), (8, 8));
    }

    #[tokio::test]
    async fn a_cut_while_every_slot_is_out_takes_effect_as_they_come_back() {
        let b = Budget::new(4);
        let held: Vec<Slot<'_>> = vec![
            b.acquire().await,
            b.acquire().await,
            b.acquire().await,
            b.acquire().await,
        ];
        assert_eq!(b.cut(Instant::now()), Some((4, 2)));
        drop(held);
        assert_eq!(b.slots.available_permits(), 2);
        assert_eq!(b.cut(Instant::now()), Some((2, 1)));
        assert_eq!(b.cut(Instant::now()), None, "never below one");
        assert_eq!(b.slots.available_permits(), 1);
    }
}
