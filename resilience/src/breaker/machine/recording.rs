//! Recording: a call's outcome, reported by its [`Permit`], counted in the state word
//! and the windows; a failure or a rate over its threshold opens the breaker.

use super::*;

impl Breaker {
    // ----- outcomes (called by Permit) -----------------------------------------------

    /// HOT PATH for a successful call through a closed breaker: in consecutive mode one
    /// load, and a write only if failures were counted since the last success; in rate
    /// mode also one add to the window's striped counter (see `window/mod.rs`), and with
    /// `rate_window` a read of the coarse clock (`window/time.rs`).
    #[inline]
    pub(in crate::breaker) fn closed_success(&self, gen: u32, modes: u8, start: u64) {
        let word = self.load_relaxed();
        if modes & live::OUTCOMES != 0
            && word.state_bits() == Word::CLOSED_BITS
            && word.gen() == gen
        {
            // The count window's success is inlined here; a slow-call rule's (which
            // reads the clock) and a time window's (which reads the coarse one) are not.
            if modes & (live::SLOW_RATE | live::RATE_WINDOW) != 0 {
                self.record_outcome(gen, modes, start, RECORDED);
            } else if self.outcomes.current().success() {
                self.record_outcome(gen, modes, start, CHECK_ONLY);
            }
        }
        if word.count() != 0 {
            self.clear_failures(word, gen);
        }
    }

    pub(in crate::breaker) fn closed_failure(&self, gen: u32, modes: u8, start: u64) {
        self.metrics.failure();
        let mut word = self.load();
        if word.state_bits() != Word::CLOSED_BITS || word.gen() != gen {
            return; // admitted in an earlier generation: no longer counts
        }
        let mut trip = false;
        if modes & live::TIME_WINDOW != 0 {
            let window = Live::duration(&self.hot.live.window);
            trip |= self
                .failure_times
                .current()
                .record(self.clock.now(), window);
        }
        if modes & live::OUTCOMES != 0 {
            trip |= self.record_outcome(gen, modes, start, RECORDED | FAILED);
        }
        let threshold = self.hot.live.failure_threshold.load(Relaxed);
        loop {
            if word.state_bits() != Word::CLOSED_BITS || word.gen() != gen {
                return;
            }
            let failures = word.count().saturating_add(1);
            let result = if trip || failures >= threshold {
                self.open(word, false)
            } else {
                self.cas(word, word.with_count(failures))
            };
            match result {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    /// Records into the window of the rates, count- or time-based (`CHECK_ONLY`: a
    /// success already counted there); opens the breaker (and returns true) when a rate
    /// is reached.
    #[inline(never)]
    pub(super) fn record_outcome(&self, gen: u32, modes: u8, start: u64, mut outcome: u8) -> bool {
        if modes & live::SLOW_RATE != 0 && outcome != CHECK_ONLY {
            let elapsed = self.now_nanos().saturating_sub(start);
            if elapsed > self.hot.live.slow_call.load(Relaxed) {
                outcome |= SLOW;
            }
        }
        let live = &self.hot.live;
        let rates = || Rates {
            minimum_calls: live.minimum_calls.load(Relaxed),
            failure_rate: (modes & live::FAILURE_RATE != 0)
                .then(|| Live::percent(&live.failure_rate)),
            slow_call_rate: (modes & live::SLOW_RATE != 0)
                .then(|| Live::percent(&live.slow_call_rate)),
        };
        let trip = if modes & live::RATE_WINDOW != 0 {
            let now = duration_nanos(self.now_coarse());
            match self.rate_window.get() {
                // HOT PATH with `rate_window`: a success that needs no check reads no
                // threshold.
                Some(window) if outcome == RECORDED => {
                    window.success(now) && window.record(CHECK_ONLY, now, &rates())
                }
                Some(window) => window.record(outcome, now, &rates()),
                None => false,
            }
        } else {
            self.outcomes.current().record(outcome, &rates())
        };
        if trip && outcome & FAILED == 0 {
            // A success: the failure path is not going to open it, so open it here (again
            // if a racing failure's count moved the word; not if anything else did).
            let mut word = self.load();
            while word.state_bits() == Word::CLOSED_BITS && word.gen() == gen {
                match self.open(word, false) {
                    Ok(()) => break,
                    Err(now) => word = now,
                }
            }
        }
        trip
    }

    #[cold]
    pub(super) fn clear_failures(&self, mut word: Word, gen: u32) {
        while word.state_bits() == Word::CLOSED_BITS && word.gen() == gen && word.count() != 0 {
            match self.cas(word, word.with_count(0)) {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    pub(in crate::breaker) fn trial_success(&self, gen: u32) {
        let mut word = self.load();
        let threshold = self.hot.live.success_threshold.load(Relaxed);
        while word.state() == BreakerState::HalfOpen && word.gen() == gen {
            let successes = word.count().saturating_add(1);
            let result = if successes >= threshold {
                let closed = Word::new(BreakerState::Closed, word.next_gen(), 0, 0);
                self.cas(word, closed)
                    .inspect(|()| self.transitioned(BreakerState::HalfOpen, BreakerState::Closed))
            } else {
                let in_flight = word.in_flight().saturating_sub(1);
                self.cas(word, word.with_count(successes).with_in_flight(in_flight))
            };
            match result {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    pub(in crate::breaker) fn trial_failure(&self, gen: u32) {
        self.metrics.failure();
        let mut word = self.load();
        while word.state() == BreakerState::HalfOpen && word.gen() == gen {
            match self.open(word, true) {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    /// A trial that ended without an outcome (its future was dropped): its place back.
    pub(in crate::breaker) fn trial_abandoned(&self, gen: u32) {
        let mut word = self.load();
        while word.state() == BreakerState::HalfOpen && word.gen() == gen {
            let in_flight = word.in_flight().saturating_sub(1);
            match self.cas(word, word.with_in_flight(in_flight)) {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }
}
