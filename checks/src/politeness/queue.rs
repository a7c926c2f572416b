//! Queue time per item: how long an item waited on the run's own limits with nothing on the
//! network, so that time is not charged to its timeout (see `web::page::Fetcher`).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// An item's time spent waiting on the run's own limits with none of its requests on the
/// network: not its network time, so not charged to its timeout (the fetch deadline and the
/// runner's backstop both move by it). Shared by the item's concurrent requests.
#[derive(Debug, Default)]
pub struct QueueClock {
    state: Mutex<ClockState>,
}

#[derive(Debug, Default)]
struct ClockState {
    waiting: usize,
    on_network: usize,
    /// When the clock started running (some request waiting, none on the network).
    since: Option<Instant>,
    total: Duration,
}

impl ClockState {
    /// Starts or stops the clock after a change of `waiting` / `on_network`.
    fn settle(&mut self, now: Instant) {
        let running = self.waiting > 0 && self.on_network == 0;
        match (running, self.since) {
            (true, None) => self.since = Some(now),
            (false, Some(t)) => {
                self.total += now.saturating_duration_since(t);
                self.since = None;
            }
            _ => {}
        }
    }
}

impl QueueClock {
    fn update(&self, f: impl FnOnce(&mut ClockState)) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut st);
        st.settle(Instant::now());
    }

    /// A request starts waiting for a turn.
    pub fn waiting(&self) {
        self.update(|s| s.waiting += 1);
    }

    /// The waiting request got its turn (`sent`) or gave up.
    pub fn turn(&self, sent: bool) {
        self.update(|s| {
            s.waiting = s.waiting.saturating_sub(1);
            if sent {
                s.on_network += 1;
            }
        });
    }

    /// Runs `wait` (a wait for a turn on the run's limits) on the clock: waiting while it runs,
    /// then a turn, on the network when `got_turn` says the wait got one. A wait dropped half-way
    /// (its caller's timeout) ends as no turn, so the clock does not count it on.
    pub async fn waiting_for<T>(
        &self,
        wait: impl std::future::Future<Output = T>,
        got_turn: impl FnOnce(&T) -> bool,
    ) -> T {
        /// Ends the wait as no turn unless disarmed.
        struct Pending<'a>(Option<&'a QueueClock>);
        impl Drop for Pending<'_> {
            fn drop(&mut self) {
                if let Some(clock) = self.0 {
                    clock.turn(false);
                }
            }
        }
        self.waiting();
        let mut pending = Pending(Some(self));
        let out = wait.await;
        pending.0 = None;
        self.turn(got_turn(&out));
        out
    }

    /// A request that was on the network is done.
    pub fn done(&self) {
        self.update(|s| s.on_network = s.on_network.saturating_sub(1));
    }

    /// Queued time so far (a running stretch included).
    pub fn total(&self) -> Duration {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let running = st
            .since
            .map(|t| Instant::now().saturating_duration_since(t))
            .unwrap_or_default();
        st.total + running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_wait_dropped_half_way_stops_the_clock() {
        let clock = QueueClock::default();
        let wait = clock.waiting_for(std::future::pending::<()>(), |_| true);
        assert!(
            tokio::time::timeout(Duration::from_secs(2), wait)
                .await
                .is_err()
        );
        assert_eq!(clock.total(), Duration::from_secs(2));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(clock.total(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn only_time_with_requests_waiting_and_none_on_the_network_counts() {
        let clock = QueueClock::default();
        clock.waiting();
        tokio::time::sleep(Duration::from_secs(2)).await;
        clock.turn(true);
        // One request on the network: a second one waiting does not count.
        clock.waiting();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(clock.total(), Duration::from_secs(2));
        clock.done();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(clock.total(), Duration::from_secs(3));
        clock.turn(false);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(clock.total(), Duration::from_secs(3));
    }
}
