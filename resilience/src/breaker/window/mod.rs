//! The count-based window behind `failure_rate` and `slow_call_rate`: the outcomes of
//! the last `window_size` calls, and the check of the rates at every recorded outcome.
//!
//! HOT PATH in rate mode: every call records here, so a success must cost about what it
//! costs in consecutive mode, and must not slow down as threads are added. It writes
//! nothing shared: it adds one to a striped counter (`stripes.rs`, one cache line per
//! thread in the common case) and reads one flag. Failures and slow calls, which are
//! rare while the breaker stays closed, take the window's lock: they first take in the
//! successes counted since the last time (the stripes' sum), in order, then themselves,
//! then check the rates over the last `window_size` calls.
//!
//! Why a success needs no check but in one case: the rates are met at any recorded
//! outcome once `minimum_calls` are in the window. A success never adds a failure or a
//! slow call; it either adds a call to a window that is not full (the rates fall) or
//! replaces the oldest call (a failure or slow call leaving: the rates fall; a success
//! leaving: they stay where the previous outcome's check left them, unmet, or the
//! breaker would have opened). So a success can newly meet a rate only when it is the
//! call that brings the window to `minimum_calls` (F F F S S over a window of 5 at 50 %
//! opens on the fifth call), or right after `configure` changed the thresholds. The
//! window raises `pending` in exactly those cases (a failure or slow call is in a window
//! still short of `minimum_calls`, or the thresholds changed), and while it is up a
//! success takes the lock and checks.
//!
//! One thread alone, this is exactly the reference semantics (the model property tests
//! compare it call by call). Threads racing: the calls are ordered as the lock and the
//! counters saw them. A success counts as recorded when its `fetch_add` lands; a failure
//! takes in every success that landed before it read the stripes, and a success landing
//! after that read comes after it. Each outcome is checked against the window as it
//! stood at its place in that order, as if the calls had run one at a time in it (the
//! success that brings the window to `minimum_calls` may be another racing success than
//! the one that checks, since both land before the check reads the stripes). The
//! counters and the window never drift from each other: they are only ever read, never
//! reset, by the lock holder, which keeps what it has taken in.

mod ring;
mod slices;
mod stripes;
mod time;

use std::sync::PoisonError;

use crate::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crate::sync::Mutex;

use ring::Ring;
use stripes::Stripes;
pub(super) use time::TimeWindow;

/// Outcome bits.
pub(super) const RECORDED: u8 = 1;
pub(super) const FAILED: u8 = 2;
pub(super) const SLOW: u8 = 4;
/// Not an outcome: a success already counted by [`Window::success`], which asked for
/// the check.
pub(super) const CHECK_ONLY: u8 = 0;

/// The success path adds (a `SeqCst` read-modify-write) then reads `pending`; a check
/// raises `pending` (a `SeqCst` store) then reads the stripes. `SeqCst` puts the four in
/// one total order, so at least one side sees the other's write. loom orders only
/// `SeqCst` fences that way, so under loom a fence stands for that order (in a normal
/// build it is nothing: on x86 the `fetch_add` is already a full barrier).
#[inline(always)]
fn loom_total_order() {
    #[cfg(loom)]
    crate::sync::atomic::fence(SeqCst);
}

/// Counts read out of a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) calls: u32,
    pub(super) failures: u32,
    pub(super) slow: u32,
}

/// The thresholds a check compares with (`None`: that rule is off).
#[derive(Clone, Copy, Debug)]
pub(super) struct Rates {
    pub(super) minimum_calls: u32,
    pub(super) failure_rate: Option<f64>,
    pub(super) slow_call_rate: Option<f64>,
}

impl Rates {
    /// Whether `c` meets a rate: at least `minimum_calls`, and a count over zero that is
    /// at least its percentage of the calls.
    pub(super) fn reached(&self, c: Counts) -> bool {
        self.reached_by(c.calls.into(), c.failures.into(), c.slow.into())
    }

    /// [`reached`](Rates::reached) for counts too large for a `u32` (a time window's).
    pub(super) fn reached_by(&self, calls: u64, failures: u64, slow: u64) -> bool {
        // Exact up to 2^53 calls, which no window holds.
        let reached =
            |count: u64, rate: f64| count > 0 && count as f64 * 100.0 >= rate * calls as f64;
        calls >= u64::from(self.minimum_calls)
            && (self.failure_rate.is_some_and(|r| reached(failures, r))
                || self.slow_call_rate.is_some_and(|r| reached(slow, r)))
    }
}

// The flag and the stripes' address are read on every success: a line of their own,
// written only when the flag flips. The lock and the ring, written on every failure,
// live apart.
#[repr(align(64))]
pub(super) struct Window {
    pending: AtomicBool,
    stripes: Stripes,
    ring: Locked,
}

#[repr(align(64))]
struct Locked(Mutex<Ring>);

impl Window {
    /// A window of `len` calls with room for `capacity` (at least `len`).
    pub(super) fn new(len: u32, capacity: u32) -> Window {
        Window {
            pending: AtomicBool::new(false),
            stripes: Stripes::new(),
            ring: Locked(Mutex::new(Ring::new(len, capacity))),
        }
    }

    pub(super) fn capacity(&self) -> u32 {
        self.lock().capacity()
    }

    /// HOT PATH: counts a success that was not slow. True when the rates must be checked
    /// now ([`record`](Window::record) with [`CHECK_ONLY`]).
    #[inline]
    pub(super) fn success(&self) -> bool {
        self.stripes.add();
        loom_total_order();
        self.pending.load(SeqCst)
    }

    /// Records `outcome` (`RECORDED` plus `FAILED` / `SLOW` bits, or `CHECK_ONLY`).
    /// True when a rate is met at it.
    pub(super) fn record(&self, outcome: u8, rates: &Rates) -> bool {
        if outcome == RECORDED {
            return self.success() && self.check(None, rates);
        }
        self.check((outcome != CHECK_ONLY).then_some(outcome), rates)
    }

    #[inline(never)]
    fn check(&self, outcome: Option<u8>, rates: &Rates) -> bool {
        let mut ring = self.lock();
        let mut trip = self.drain(&mut ring, rates);
        if let Some(outcome) = outcome {
            ring.push(outcome);
        }
        trip |= rates.reached(ring.counts());
        let counts = ring.counts();
        let short = counts.calls < rates.minimum_calls && (counts.failures | counts.slow) != 0;
        if short {
            self.pending.store(true, SeqCst);
            loom_total_order();
            // A success that added before the flag was up did not see it: take it in
            // now (it comes after this outcome, and may be the one that makes up the
            // minimum).
            trip |= self.drain(&mut ring, rates);
        }
        if ring.counts().calls >= rates.minimum_calls || !short {
            self.pending.store(false, SeqCst);
        }
        trip
    }

    /// Takes in the successes counted since the last drain. True when the one that made
    /// up `minimum_calls` met a rate.
    fn drain(&self, ring: &mut Ring, rates: &Rates) -> bool {
        let total = self.stripes.sum();
        let new = total.wrapping_sub(ring.drained);
        ring.drained = total;
        ring.push_successes(new, rates)
    }

    /// The counts now (successes counted so far taken in).
    pub(super) fn counts(&self) -> Counts {
        let mut ring = self.lock();
        self.drain_unchecked(&mut ring);
        ring.counts()
    }

    /// Takes in the successes counted so far unless a check is pending (then they wait
    /// for the check that is theirs). Without a pending check no success can meet a
    /// rate (see the module doc), so no check is lost.
    fn drain_unchecked(&self, ring: &mut Ring) {
        if !self.pending.load(SeqCst) {
            let off = Rates {
                minimum_calls: 0,
                failure_rate: None,
                slow_call_rate: None,
            };
            self.drain(ring, &off);
        }
    }

    /// Asks for a check at the next outcome, whatever it is (the thresholds changed).
    /// The successes counted so far are taken in first: they were judged by the old
    /// thresholds.
    pub(super) fn recheck(&self) {
        let mut ring = self.lock();
        self.drain_unchecked(&mut ring);
        self.pending.store(true, SeqCst);
    }

    /// Empties the window: successes counted so far no longer count.
    pub(super) fn clear(&self) {
        let mut ring = self.lock();
        let len = ring.len();
        ring.clear(len);
        ring.drained = self.stripes.sum();
        self.pending.store(false, SeqCst);
    }

    /// Uses the first `len` slots (`len <= capacity`), emptied.
    pub(super) fn set_len(&self, len: u32) {
        let mut ring = self.lock();
        ring.clear(len as usize);
        ring.drained = self.stripes.sum();
        self.pending.store(false, SeqCst);
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, Ring> {
        // Nothing panics while holding it, and a ring is valid after any `push`.
        self.ring.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const AT_HALF: Rates = Rates {
        minimum_calls: 4,
        failure_rate: Some(50.0),
        slow_call_rate: None,
    };

    #[test]
    fn successes_are_taken_in_before_the_next_failure() {
        let w = Window::new(4, 4);
        for _ in 0..10 {
            assert!(!w.success(), "no failure yet: no check");
        }
        assert!(!w.record(RECORDED | FAILED, &AT_HALF), "1 in 4");
        assert_eq!(
            w.counts(),
            Counts {
                calls: 4,
                failures: 1,
                slow: 0
            }
        );
        assert!(w.record(RECORDED | FAILED, &AT_HALF), "2 in 4");
    }

    #[test]
    fn a_window_short_of_the_minimum_asks_successes_to_check() {
        let w = Window::new(4, 4);
        assert!(!w.record(RECORDED | FAILED, &AT_HALF));
        assert!(!w.record(RECORDED | FAILED, &AT_HALF), "2 calls: short");
        assert!(w.success(), "a failure in a short window: check");
        assert!(!w.record(CHECK_ONLY, &AT_HALF), "3 calls: short");
        assert!(w.success());
        assert!(w.record(CHECK_ONLY, &AT_HALF), "F F S S: 50 % at 4 calls");
        w.clear();
        assert!(!w.success(), "cleared: nothing to check");
        assert_eq!(
            w.counts(),
            Counts {
                calls: 1,
                failures: 0,
                slow: 0
            }
        );
    }

    #[test]
    fn piled_up_successes_are_checked_where_they_make_up_the_minimum() {
        // Threads racing: three successes land before the check that takes them in.
        let w = Window::new(8, 8);
        assert!(!w.record(RECORDED | FAILED, &AT_HALF));
        assert!(!w.record(RECORDED | FAILED, &AT_HALF));
        for _ in 0..3 {
            w.stripes.add();
        }
        // F F S S reached 50 % at 4 calls; the fifth (40 %) does not undo that.
        assert!(w.record(CHECK_ONLY, &AT_HALF));
        assert_eq!(w.counts().calls, 5);
    }

    #[test]
    fn shrinking_empties_and_keeps_in_bounds() {
        let w = Window::new(8, 8);
        for _ in 0..6 {
            w.record(RECORDED | FAILED, &AT_HALF);
        }
        w.set_len(2);
        assert_eq!(w.counts(), Counts::default());
        for _ in 0..5 {
            w.record(RECORDED | FAILED, &AT_HALF);
        }
        assert_eq!(
            w.counts(),
            Counts {
                calls: 2,
                failures: 2,
                slow: 0
            }
        );
        assert_eq!(w.capacity(), 8);
    }
}
