//! Transitions: every move between states, each one compare-and-swap of the state word;
//! and the remote transitions a cluster applies (`crate::cluster`).

use super::*;

impl Breaker {
    // ----- transitions ---------------------------------------------------------------

    /// Opens from `from` (closed or half-open), then publishes the deadline.
    pub(super) fn open(&self, from: Word) -> Result<(), Word> {
        let next = Word::new(BreakerState::Open, from.next_gen(), 0, 0);
        self.cas(from, next)?;
        let timeout = self.hot.live.recovery_timeout.load(Relaxed);
        // On the clock `due` reads (coarse: it runs on every refused call).
        let deadline = duration_nanos(self.clock.now_coarse())
            .saturating_add(timeout)
            .div_ceil(1_000_000)
            .min(MAX_DEADLINE_MS);
        self.hot.deadline.store(
            (deadline << DEADLINE_SHIFT) | u64::from(next.gen()),
            Release,
        );
        self.stats.opened.fetch_add(1, Relaxed);
        // The windows start empty for the next closed period; nothing records into them
        // while open, so clearing now races with no current call.
        self.clear_windows();
        self.transitioned(from.state(), BreakerState::Open);
        Ok(())
    }

    pub(super) fn set_state(&self, to: BreakerState) {
        let mut word = self.load();
        loop {
            match self.cas(word, Word::new(to, word.next_gen(), 0, 0)) {
                Ok(()) => break,
                Err(now) => word = now,
            }
        }
        if to == BreakerState::Closed {
            self.clear_windows();
        }
        if word.state() != to {
            self.transitioned(word.state(), to);
        }
    }

    pub(super) fn clear_windows(&self) {
        self.outcomes.current().clear();
        self.failure_times.current().clear();
    }

    pub(super) fn transitioned(&self, from: BreakerState, to: BreakerState) {
        publish::transitioned(self, from, to);
        self.metrics.state(to);
        super::super::events::state_changed(&self.events, self.name, from, to);
    }

    // ----- cluster scope: remote transitions, applied by `crate::cluster` (cold) --------

    /// While open: the time left before a trial is let through.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn open_remaining(&self) -> Option<Duration> {
        let word = self.load();
        if word.state() != BreakerState::Open {
            return None;
        }
        Some(
            self.due(word, self.clock.now_coarse())
                .err()
                .flatten()
                .unwrap_or_default(),
        )
    }

    /// Opens (from closed or half-open) or keeps open, with the next trial `after` from
    /// now (at most the recovery timeout). False when forced open or disabled.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn apply_open(&self, after: Duration) -> bool {
        let mut word = self.load();
        loop {
            match word.state() {
                BreakerState::Open => break,
                BreakerState::Closed | BreakerState::HalfOpen => match self.open(word) {
                    Ok(()) => break,
                    Err(now) => word = now,
                },
                BreakerState::ForcedOpen | BreakerState::Disabled => return false,
            }
        }
        let word = self.load();
        if word.state() != BreakerState::Open {
            return false;
        }
        let deadline = duration_nanos(self.clock.now_coarse())
            .saturating_add(duration_nanos(after))
            .div_ceil(1_000_000)
            .min(MAX_DEADLINE_MS);
        self.hot.deadline.store(
            (deadline << DEADLINE_SHIFT) | u64::from(word.gen()),
            Release,
        );
        true
    }

    /// Closes an open or half-open breaker (its windows cleared). False otherwise.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn apply_close(&self) -> bool {
        let mut word = self.load();
        while matches!(word.state(), BreakerState::Open | BreakerState::HalfOpen) {
            match self.cas(word, Word::new(BreakerState::Closed, word.next_gen(), 0, 0)) {
                Ok(()) => {
                    self.clear_windows();
                    self.transitioned(word.state(), BreakerState::Closed);
                    return true;
                }
                Err(now) => word = now,
            }
        }
        false
    }
}
