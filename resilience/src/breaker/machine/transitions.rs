//! Transitions: every move between states, each one compare-and-swap of the state word;
//! and the remote transitions a cluster applies (`crate::cluster`).

use super::*;

impl Breaker {
    // ----- transitions ---------------------------------------------------------------

    /// Opens from `from`, then publishes the open period's failed trials and deadline.
    /// `trial_failed`: a half-open trial failed, so the period grows by
    /// `recovery_factor`; from closed it starts again at `recovery_timeout`; any other
    /// opening (by hand, by the cluster) keeps the period it had.
    pub(super) fn open(&self, from: Word, trial_failed: bool) -> Result<(), Word> {
        let next = Word::new(BreakerState::Open, from.next_gen(), 0, 0);
        self.cas(from, next)?;
        let strikes = match from.state() {
            BreakerState::Closed => 0,
            _ => {
                let before = self.strikes(from);
                if trial_failed {
                    (before + 1).min(MAX_STRIKES)
                } else {
                    before
                }
            }
        };
        let period = self.hot.live.open_period(strikes);
        // On the clock `due` reads (coarse: it runs on every refused call).
        let deadline = duration_nanos(self.now_coarse())
            .saturating_add(period)
            .div_ceil(1_000_000)
            .min(MAX_DEADLINE_MS);
        // The strikes first: a reader that finds this generation's deadline finds them.
        self.publish(&self.hot.strikes, strikes, next.gen());
        self.publish(&self.hot.deadline, deadline, next.gen());
        self.stats.opened.fetch_add(1, Relaxed);
        // The windows start empty for the next closed period; nothing records into them
        // while open, so clearing now races with no current call.
        self.clear_windows();
        self.metrics.open_period(Duration::from_nanos(period));
        self.transitioned(from.state(), BreakerState::Open);
        Ok(())
    }

    /// Stores `value` tagged with `gen` into the deadline or strikes word while the
    /// breaker is still in generation `gen`: an opener slow to publish must not
    /// overwrite what an opening after it published.
    fn publish(&self, word: &AtomicU64, value: u64, gen: u32) {
        let new = (value << DEADLINE_SHIFT) | u64::from(gen);
        // Acquire: reading what a later opener published (with Release, after its
        // transition) makes its transition visible to the check of the generation.
        let mut current = word.load(Acquire);
        while self.load().gen() == gen {
            match word.compare_exchange_weak(current, new, AcqRel, Acquire) {
                Ok(_) => return,
                Err(now) => current = now,
            }
        }
    }

    /// The failed trials in a row behind the open period `word` is in (open) or came
    /// from (half-open); 0 when none was published for it (closed, or opened by hand
    /// before its opener published).
    pub(super) fn strikes(&self, word: Word) -> u64 {
        let gen = match word.state() {
            BreakerState::Open => word.gen(),
            BreakerState::HalfOpen => word.gen().wrapping_sub(1) & GEN_MASK as u32,
            _ => return 0,
        };
        tagged(self.hot.strikes.load(Acquire), gen).unwrap_or(0)
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
        if let Some(window) = self.rate_window.get() {
            window.clear();
        }
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
            self.due(word, self.now_coarse())
                .err()
                .flatten()
                .unwrap_or_default(),
        )
    }

    /// Opens (from closed or half-open) or keeps open, with the next trial `after` from
    /// now; the open period is taken to be at least as long (the fewest failed trials
    /// whose period covers `after`). False when forced open or disabled.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn apply_open(&self, after: Duration) -> bool {
        let mut word = self.load();
        loop {
            match word.state() {
                BreakerState::Open => break,
                BreakerState::Closed | BreakerState::HalfOpen => match self.open(word, false) {
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
        let after = duration_nanos(after);
        // The period that covers `after` (another instance's may have grown), so that
        // `due` does not cut the wait to this instance's shorter one.
        let strikes = self.strikes(word).max(self.hot.live.strikes_for(after));
        self.publish(&self.hot.strikes, strikes, word.gen());
        let deadline = duration_nanos(self.now_coarse())
            .saturating_add(after)
            .div_ceil(1_000_000)
            .min(MAX_DEADLINE_MS);
        self.publish(&self.hot.deadline, deadline, word.gen());
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    /// A cluster's opening lasts as long as the instance that opened it said, even when
    /// its period grew past this instance's: the failed trials are taken to cover it.
    #[test]
    fn an_opening_applied_from_elsewhere_keeps_its_wait_when_the_period_grew() {
        const S: Duration = Duration::from_secs(1);
        let b = Breaker::new(
            "apply",
            BreakerConfig {
                recovery_timeout: S,
                recovery_factor: 2.0,
                max_recovery_timeout: Some(10 * S),
                ..BreakerConfig::default()
            },
        )
        .unwrap()
        .with_clock(ManualClock::new());
        assert!(b.apply_open(3 * S));
        assert_eq!(b.acquire().unwrap_err().retry_after, Some(3 * S));
        assert_eq!(
            b.snapshot().open_period,
            4 * S,
            "two failed trials cover 3 s"
        );
        assert!(b.apply_open(30 * S));
        assert_eq!(
            b.acquire().unwrap_err().retry_after,
            Some(10 * S),
            "the cap"
        );
    }
}
