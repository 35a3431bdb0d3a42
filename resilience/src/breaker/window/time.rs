//! The time window behind `rate_window`: the outcomes of the calls of the last
//! `rate_window`, kept in [`SLICES`] slices of time (`slices.rs`), and the check of the
//! rates at every recorded outcome (resilience4j's `TIME_BASED` window).
//!
//! HOT PATH: as the count window's, a success writes nothing shared. It adds one to a
//! striped counter (`stripes.rs`), then compares the time with `gate`, one word on a
//! read-mostly line: a success before `gate` is counted in the window's end slice and
//! needs nothing more. Failures, slow calls, and a success at or after `gate` take the
//! window's lock: they take in the successes counted since the last time (in the end
//! slice, where they happened), turn the window to their own slice if it is later,
//! count themselves there, then check the rates.
//!
//! When a success needs the lock: the window's content changes only when it turns (a
//! slice leaves it) or when an outcome is counted. Within one slice a success only adds
//! a call, and lowers both rates, except when it brings the window to `minimum_calls`
//! while a failure or slow call is in it (as in the count window). So `gate` is the
//! first time of the next slice, or 0 ("every success checks") while a failure or slow
//! call is in a window short of `minimum_calls`, or right after `configure` changed the
//! thresholds. A turn takes the lock once per slice (a sixty-fourth of the window), even
//! with no failure: the successes before it must be counted in the slice they ended in.
//!
//! One thread alone, this is exactly the reference semantics (the model property tests
//! compare it call by call). Threads racing: a success counts in the slice that is the
//! window's end when its `fetch_add` is taken in, so a success racing the turn of a
//! slice may count in the slice before or after the one its clock read said (it is
//! forgotten up to a slice early or late). The order of the outcomes is the one the
//! lock and the counters saw, as in the count window, and no success is lost or counted
//! twice: the stripes only grow, and only the lock holder reads them.

use std::sync::PoisonError;

use super::slices::{Slices, Tally};
use super::stripes::Stripes;
use super::{loom_total_order, Counts, Rates, CHECK_ONLY, RECORDED};
use crate::sync::atomic::{AtomicU64, Ordering::SeqCst};
use crate::sync::Mutex;

/// `gate` when every success must check.
const EVERY_SUCCESS: u64 = 0;

// As in the count window: the gate and the stripes' address, read on every success, on a
// line of their own; the lock and the slices, written at failures and turns, apart.
#[repr(align(64))]
pub(in crate::breaker) struct TimeWindow {
    /// A success at a time (nanoseconds on the breaker's clock) before this needs no
    /// lock; `EVERY_SUCCESS`: every success takes it.
    gate: AtomicU64,
    stripes: Stripes,
    slices: Locked,
}

#[repr(align(64))]
struct Locked(Mutex<Slices>);

impl TimeWindow {
    /// An empty window of `window` nanoseconds.
    pub(in crate::breaker) fn new(window: u64) -> TimeWindow {
        TimeWindow {
            gate: AtomicU64::new(EVERY_SUCCESS),
            stripes: Stripes::new(),
            slices: Locked(Mutex::new(Slices::new(window))),
        }
    }

    /// HOT PATH: counts a success that was not slow, ended at `now`. True when it must
    /// be taken in now ([`record`](TimeWindow::record) with [`CHECK_ONLY`]).
    #[inline]
    pub(in crate::breaker) fn success(&self, now: u64) -> bool {
        self.stripes.add();
        loom_total_order();
        now >= self.gate.load(SeqCst)
    }

    /// Records `outcome` (`RECORDED` plus `FAILED` / `SLOW` bits, or `CHECK_ONLY` for a
    /// success already counted by [`success`](TimeWindow::success)) at `now`. True when
    /// a rate is met at it.
    pub(in crate::breaker) fn record(&self, outcome: u8, now: u64, rates: &Rates) -> bool {
        if outcome == RECORDED {
            return self.success(now) && self.check(CHECK_ONLY, now, rates);
        }
        self.check(outcome, now, rates)
    }

    #[inline(never)]
    fn check(&self, outcome: u8, now: u64, rates: &Rates) -> bool {
        let mut slices = self.lock();
        let slice = slices.slice_of(now);
        let mut new = self.take_successes(&mut slices);
        // A success taking the lock was counted on the stripes: it is the last of them
        // (or was taken in already by a racing check, and then counts where it was).
        let own = u64::from(outcome == CHECK_ONLY && new > 0);
        new -= own;
        // The successes before this call ended in the end slice, before any turn.
        let mut trip = slices.push_successes(new, rates);
        slices.turn_to(slice);
        if outcome == CHECK_ONLY {
            trip |= slices.push_successes(own, rates);
        } else {
            slices.push(outcome);
        }
        trip |= reached(slices.totals(), rates);
        let short = |t: Tally| t.calls < u64::from(rates.minimum_calls) && t.marked();
        if short(slices.totals()) {
            self.gate.store(EVERY_SUCCESS, SeqCst);
            loom_total_order();
            // A success that added before the gate came down did not see it: take it
            // in now (it comes after this outcome, and may make up the minimum).
            let late = self.take_successes(&mut slices);
            trip |= slices.push_successes(late, rates);
        }
        if !short(slices.totals()) {
            self.gate.store(slices.next_turn(), SeqCst);
        }
        trip
    }

    /// The successes counted on the stripes since the last time, now taken.
    fn take_successes(&self, slices: &mut Slices) -> u64 {
        let total = self.stripes.sum();
        let new = total.wrapping_sub(slices.drained);
        slices.drained = total;
        new
    }

    /// The counts of the window as it stands at `now` (it does not move: only a
    /// recorded call turns it).
    pub(in crate::breaker) fn counts(&self, now: u64) -> Counts {
        let slices = self.lock();
        let undrained = self.stripes.sum().wrapping_sub(slices.drained);
        let t = slices.totals_at(slices.slice_of(now), undrained);
        let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Counts {
            calls: narrow(t.calls),
            failures: narrow(t.failures),
            slow: narrow(t.slow),
        }
    }

    /// Asks for a check at the next outcome, whatever it is (the thresholds changed).
    /// The successes counted so far are taken in first: they were judged by the old
    /// thresholds (unless a check of theirs is pending; then they wait for it).
    pub(in crate::breaker) fn recheck(&self) {
        let mut slices = self.lock();
        if self.gate.load(SeqCst) != EVERY_SUCCESS {
            let new = self.take_successes(&mut slices);
            let off = Rates {
                minimum_calls: 0,
                failure_rate: None,
                slow_call_rate: None,
            };
            slices.push_successes(new, &off);
        }
        self.gate.store(EVERY_SUCCESS, SeqCst);
    }

    /// Empties the window: successes counted so far no longer count.
    pub(in crate::breaker) fn clear(&self) {
        let mut slices = self.lock();
        slices.clear();
        slices.drained = self.stripes.sum();
        self.gate.store(slices.next_turn(), SeqCst);
    }

    /// A window of another length, empty.
    pub(in crate::breaker) fn set_window(&self, window: u64) {
        let mut slices = self.lock();
        *slices = Slices::new(window);
        slices.drained = self.stripes.sum();
        self.gate.store(EVERY_SUCCESS, SeqCst);
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, Slices> {
        // Nothing panics while holding it, and the slices are valid after any step.
        self.slices.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn reached(t: Tally, rates: &Rates) -> bool {
    rates.reached_by(t.calls, t.failures, t.slow)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::breaker::window::{FAILED, SLOW};

    const S: u64 = 1_000_000_000;
    /// A window of 64 s: slices of one second.
    const WINDOW: u64 = 64 * S;
    const AT_HALF: Rates = Rates {
        minimum_calls: 4,
        failure_rate: Some(50.0),
        slow_call_rate: None,
    };

    #[test]
    fn successes_within_a_slice_take_no_lock_and_count_where_they_ended() {
        let w = TimeWindow::new(WINDOW);
        assert!(w.success(0), "the first call turns the window to its slice");
        assert!(!w.record(CHECK_ONLY, 0, &AT_HALF));
        for _ in 0..10 {
            assert!(
                !w.success(S / 2),
                "same slice, no failure: nothing to check"
            );
        }
        assert!(w.success(S), "the next slice: a turn");
        assert!(!w.record(CHECK_ONLY, S, &AT_HALF));
        assert_eq!(w.counts(S).calls, 12);
        assert_eq!(w.counts(64 * S).calls, 1, "slice 0 has left the window");
        assert_eq!(w.counts(65 * S).calls, 0);
    }

    #[test]
    fn failures_older_than_the_window_no_longer_count() {
        let w = TimeWindow::new(WINDOW);
        for i in 0..3 {
            assert!(!w.record(RECORDED | FAILED, i * S, &AT_HALF), "short");
        }
        assert!(
            w.record(RECORDED, 3 * S, &AT_HALF),
            "F F F S: 75 % at 4 calls"
        );

        let w = TimeWindow::new(WINDOW);
        assert!(!w.record(RECORDED | FAILED, 0, &AT_HALF));
        for _ in 0..3 {
            assert!(!w.record(RECORDED, S, &AT_HALF));
        }
        // 64 s on, the first failure has left: S S S F is 25 % of 4 calls, not 40 % of 5.
        assert!(!w.record(RECORDED | FAILED, 64 * S, &AT_HALF));
        assert_eq!(
            w.counts(64 * S),
            Counts {
                calls: 4,
                failures: 1,
                slow: 0
            }
        );
    }

    #[test]
    fn a_success_opens_when_older_successes_leave() {
        // S S at 0, F F at 10 s: 50 % of 4 calls. At 64 s the successes leave; the
        // next success finds F F S: 67 %, and opens.
        let rates = Rates {
            minimum_calls: 3,
            failure_rate: Some(60.0),
            slow_call_rate: None,
        };
        let w = TimeWindow::new(WINDOW);
        for _ in 0..2 {
            w.record(RECORDED, 0, &rates);
        }
        for _ in 0..2 {
            assert!(!w.record(RECORDED | FAILED, 10 * S, &rates));
        }
        assert!(w.record(RECORDED, 64 * S, &rates));
    }

    #[test]
    fn slow_calls_count_as_failures_do() {
        let rates = Rates {
            minimum_calls: 2,
            failure_rate: None,
            slow_call_rate: Some(50.0),
        };
        let w = TimeWindow::new(WINDOW);
        assert!(!w.record(RECORDED | SLOW, 0, &rates));
        assert!(w.record(RECORDED, 0, &rates), "a slow call in 2 calls");
    }

    #[test]
    fn a_new_length_empties_and_recheck_takes_in_first() {
        let w = TimeWindow::new(WINDOW);
        w.record(RECORDED | FAILED, 0, &AT_HALF);
        w.set_window(2 * WINDOW);
        assert_eq!(w.counts(0), Counts::default());
        w.record(RECORDED, 0, &AT_HALF);
        assert!(!w.success(S));
        w.recheck();
        assert_eq!(w.counts(S).calls, 2);
        assert!(w.success(S), "after a recheck every success checks");
    }
}
