//! Admission: whether a call may run (closed, half-open trial places, open and its
//! recovery deadline, an open parent), decided in [`Breaker::acquire_slow`] when the
//! inlined fast path in `mod.rs` cannot decide alone.

use super::*;

/// How far up a chain of parents a call looks (chains are acyclic; this is a backstop).
const MAX_PARENT_DEPTH: u8 = 32;

impl Breaker {
    // ----- admission -----------------------------------------------------------------

    #[inline(never)]
    pub(super) fn acquire_slow(&self, mut word: Word, modes: u8) -> Admit {
        if modes & live::PARENT != 0 && word.state() != BreakerState::Disabled {
            if let Some(refusal) = self.parent_refusal() {
                self.count_rejection(self.now_coarse());
                return refusal;
            }
        }
        loop {
            match word.state() {
                BreakerState::Closed => {
                    let (timed, now) = self.timing();
                    let start = if modes & live::SLOW_RATE != 0 && timed == 0 {
                        self.now_nanos()
                    } else {
                        now
                    };
                    return Admit::permit(Kind::Closed, word.gen(), modes | timed, start);
                }
                BreakerState::Disabled => return Admit::permit(Kind::Noop, 0, 0, 0),
                BreakerState::ForcedOpen => return self.refuse(BreakerState::ForcedOpen, None),
                BreakerState::Open => {
                    // HOT PATH of a refusal: the time stays in nanoseconds from the clock
                    // to the refusal's `retry_after`, no `Duration` made and taken apart.
                    let now = self.now_coarse_nanos();
                    if let Err(left) = self.due_nanos(word, now) {
                        self.count_rejection_at_second(now / 1_000_000_000);
                        return Admit::refusal_nanos(BreakerState::Open, left, 0);
                    }
                    // Due: whoever swaps open → half-open holds the first trial place.
                    let next = Word::new(BreakerState::HalfOpen, word.next_gen(), 0, 1);
                    match self.cas(word, next) {
                        Ok(()) => {
                            self.transitioned(BreakerState::Open, BreakerState::HalfOpen);
                            let (timed, start) = self.timing();
                            return Admit::permit(Kind::Trial, next.gen(), timed, start);
                        }
                        Err(now) => word = now,
                    }
                }
                BreakerState::HalfOpen => {
                    let max = self.hot.live.half_open_max_calls.load(Relaxed);
                    if word.in_flight() >= max {
                        return self.refuse(BreakerState::HalfOpen, None);
                    }
                    match self.cas(word, word.with_in_flight(word.in_flight() + 1)) {
                        Ok(()) => {
                            let (timed, start) = self.timing();
                            return Admit::permit(Kind::Trial, word.gen(), timed, start);
                        }
                        Err(now) => word = now,
                    }
                }
            }
        }
    }

    /// `Ok` when an open `word`'s recovery timeout has passed at `now`; otherwise the
    /// time left, if known.
    pub(super) fn due(&self, word: Word, now: Duration) -> Result<(), Option<Duration>> {
        self.due_nanos(word, duration_nanos(now))
            .map_err(|left| Some(Duration::from_nanos(left)))
    }

    /// [`due`](Self::due) at `now` in nanoseconds, the time left in nanoseconds (the
    /// deadline's unit is the millisecond).
    #[inline]
    pub(super) fn due_nanos(&self, word: Word, now: u64) -> Result<(), u64> {
        let timeout = self.hot.live.recovery_timeout.load(Relaxed);
        let d = self.hot.deadline.load(Acquire);
        if (d & GEN_MASK) as u32 != word.gen() {
            // The thread that opened it has not published the deadline yet.
            return Err(timeout);
        }
        let deadline = d >> DEADLINE_SHIFT;
        let now_ms = (now / 1_000_000).min(MAX_DEADLINE_MS);
        if now_ms >= deadline {
            return Ok(());
        }
        let left = deadline - now_ms;
        if longer_than(left, timeout) {
            return Err(self.longer_than_timeout(word, d, now_ms, left));
        }
        Err(left * 1_000_000)
    }

    /// An open period left longer than `recovery_timeout`: a grown open period, or the
    /// clock went backwards, or the timeout was lowered. Never wait longer than one
    /// period from what the clock says now. The time left in nanoseconds.
    #[cold]
    #[inline(never)]
    fn longer_than_timeout(&self, word: Word, d: u64, now_ms: u64, left: u64) -> u64 {
        let period_ms = self
            .hot
            .live
            .open_period(self.strikes(word))
            .div_ceil(1_000_000);
        if left > period_ms {
            let moved = ((now_ms.saturating_add(period_ms)).min(MAX_DEADLINE_MS) << DEADLINE_SHIFT)
                | (d & GEN_MASK);
            let _ = self
                .hot
                .deadline
                .compare_exchange(d, moved, AcqRel, Acquire);
            self.stats.warn.clock_went_back();
            return period_ms.saturating_mul(1_000_000);
        }
        left * 1_000_000
    }

    /// The refusal of the nearest open ancestor, if any.
    pub(super) fn parent_refusal(&self) -> Option<Admit> {
        let mut link = self.parent.get()?;
        for depth in 1..=MAX_PARENT_DEPTH {
            let word = link.load();
            match word.state() {
                BreakerState::ForcedOpen => {
                    return Some(Admit::refusal(BreakerState::ForcedOpen, None, depth))
                }
                BreakerState::Open => {
                    if let Err(left) = link.due(word, link.now_coarse()) {
                        return Some(Admit::refusal(BreakerState::Open, left, depth));
                    }
                }
                _ => {}
            }
            if link.hot.live.modes.load(Relaxed) & live::PARENT == 0 {
                return None;
            }
            link = link.parent.get()?;
        }
        None
    }

    /// A refusal by this breaker, counted.
    pub(super) fn refuse(&self, state: BreakerState, retry_after: Option<Duration>) -> Admit {
        self.refuse_at(state, retry_after, self.now_coarse())
    }

    /// [`refuse`](Self::refuse), the clock read at `now` (coarse).
    #[inline]
    pub(super) fn refuse_at(
        &self,
        state: BreakerState,
        retry_after: Option<Duration>,
        now: Duration,
    ) -> Admit {
        self.count_rejection(now);
        Admit::refusal(state, retry_after, 0)
    }

    /// Counts a refusal; at most once a second, a WARN with the count since the last.
    #[inline]
    pub(super) fn count_rejection(&self, now: Duration) {
        self.count_rejection_at_second(now.as_secs());
    }

    /// [`count_rejection`](Self::count_rejection) at `second` of the breaker's clock.
    #[inline]
    pub(super) fn count_rejection_at_second(&self, second: u64) {
        self.stats.rejections.add();
        self.metrics.rejection();
        let total = || self.stats.rejections.total();
        if let Some(refused) = self.stats.warn.due(second, total) {
            super::super::events::refused(&self.events, self.name, self.state(), refused);
        }
    }

    /// The breaker `depth` parent links up (`parent_refusal` found it there; links never
    /// change once made).
    #[inline]
    pub(super) fn ancestor(&self, depth: u8) -> &Breaker {
        let mut link = self;
        for _ in 0..depth {
            match link.parent.get() {
                Some(parent) => link = parent,
                None => break,
            }
        }
        link
    }
}

/// Whether `left_ms` (at least 1, under 2^40) is longer than `timeout` nanoseconds
/// rounded up to the millisecond: `left_ms > timeout.div_ceil(1_000_000)` without the
/// division (the product cannot overflow).
#[inline]
fn longer_than(left_ms: u64, timeout: u64) -> bool {
    (left_ms - 1) * 1_000_000 >= timeout
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn longer_than_is_the_rounded_up_comparison() {
        let timeouts = (0..3_000_000u64).step_by(999).chain([
            u64::MAX,
            u64::MAX - 1,
            (MAX_DEADLINE_MS - 1) * 1_000_000,
        ]);
        for timeout in timeouts {
            let rounded = timeout.div_ceil(1_000_000);
            for left in [
                1,
                2,
                3,
                4,
                rounded.max(1),
                rounded + 1,
                rounded + 2,
                MAX_DEADLINE_MS,
            ] {
                let left = left.min(MAX_DEADLINE_MS);
                assert_eq!(
                    longer_than(left, timeout),
                    left > rounded,
                    "{left} ms, {timeout} ns"
                );
            }
        }
    }
}
