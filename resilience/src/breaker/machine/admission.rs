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
                self.count_rejection();
                return refusal;
            }
        }
        loop {
            match word.state() {
                BreakerState::Closed => {
                    let start = if modes & live::SLOW_RATE != 0 {
                        self.now_nanos()
                    } else {
                        0
                    };
                    return Admit::permit(Kind::Closed, word.gen(), modes, start);
                }
                BreakerState::Disabled => return Admit::permit(Kind::Noop, 0, 0, 0),
                BreakerState::ForcedOpen => return self.refuse(BreakerState::ForcedOpen, None),
                BreakerState::Open => {
                    if let Err(left) = self.due(word, self.clock.now_coarse()) {
                        return self.refuse(BreakerState::Open, left);
                    }
                    // Due: whoever swaps open → half-open holds the first trial place.
                    let next = Word::new(BreakerState::HalfOpen, word.next_gen(), 0, 1);
                    match self.cas(word, next) {
                        Ok(()) => {
                            self.transitioned(BreakerState::Open, BreakerState::HalfOpen);
                            return Admit::permit(Kind::Trial, next.gen(), 0, 0);
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
                        Ok(()) => return Admit::permit(Kind::Trial, word.gen(), 0, 0),
                        Err(now) => word = now,
                    }
                }
            }
        }
    }

    /// `Ok` when an open `word`'s recovery timeout has passed at `now`; otherwise the
    /// time left, if known.
    pub(super) fn due(&self, word: Word, now: Duration) -> Result<(), Option<Duration>> {
        let timeout = self.hot.live.recovery_timeout.load(Relaxed);
        let d = self.hot.deadline.load(Acquire);
        if (d & GEN_MASK) as u32 != word.gen() {
            // The thread that opened it has not published the deadline yet.
            return Err(Some(Duration::from_nanos(timeout)));
        }
        let deadline = d >> DEADLINE_SHIFT;
        let now_ms = (duration_nanos(now) / 1_000_000).min(MAX_DEADLINE_MS);
        if now_ms >= deadline {
            return Ok(());
        }
        let left = deadline - now_ms;
        let timeout_ms = timeout.div_ceil(1_000_000);
        if left > timeout_ms {
            // The clock went backwards or the timeout was lowered: never wait longer
            // than one timeout from what the clock says now.
            let moved =
                ((now_ms + timeout_ms).min(MAX_DEADLINE_MS) << DEADLINE_SHIFT) | (d & GEN_MASK);
            let _ = self
                .hot
                .deadline
                .compare_exchange(d, moved, AcqRel, Acquire);
            return Err(Some(Duration::from_millis(timeout_ms)));
        }
        Err(Some(Duration::from_millis(left)))
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
                    if let Err(left) = link.due(word, link.clock.now_coarse()) {
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
        self.count_rejection();
        Admit::refusal(state, retry_after, 0)
    }

    pub(super) fn count_rejection(&self) {
        self.stats.rejections.add();
        self.metrics.rejection();
        // A flag's load unless someone listens (a debug event or a stream subscriber).
        if self.events.listening()
            || tracing::enabled!(target: "resilience::breaker", tracing::Level::DEBUG)
        {
            super::super::events::refused(&self.events, self.name, self.state(), 1);
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
