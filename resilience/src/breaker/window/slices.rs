//! The outcomes of the last [`SLICES`] slices of time, each a tally, with running totals:
//! plain data, read and written only under the time window's lock.
//!
//! Time is cut into slices of `width` nanoseconds, numbered from the clock's origin
//! (slice `n` is `[n × width, (n + 1) × width)`). The window ends at the newest slice a
//! call was counted in (`end`) and holds the [`SLICES`] slices up to it; a slice leaving
//! the window is subtracted from the totals and emptied (resilience4j's
//! subtract-on-evict). Slot `n % SLICES` holds slice `n`, and no slot outside the window
//! holds anything, so the totals are always the window's.

use super::{Rates, FAILED, RECORDED, SLOW};

/// Slices in a window: a call counts for at least 63/64 of the window and at most all
/// of it. 64 slices of a few words each keep a breaker's window under 2 KiB, and make a
/// one-minute window move by under a second, as resilience4j's does.
pub(super) const SLICES: u64 = 64;

/// Calls, failures and slow calls (a call may be both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub(super) calls: u64,
    pub(super) failures: u64,
    pub(super) slow: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.calls += other.calls;
        self.failures += other.failures;
        self.slow += other.slow;
    }

    fn sub(&mut self, other: Tally) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }

    /// Whether a failure or a slow call is in it: only then can a rate be met.
    pub(super) fn marked(&self) -> bool {
        self.failures != 0 || self.slow != 0
    }

    fn of(outcome: u8) -> Tally {
        Tally {
            calls: u64::from(outcome & RECORDED != 0),
            failures: u64::from(outcome & FAILED != 0),
            slow: u64::from(outcome & SLOW != 0),
        }
    }
}

pub(super) struct Slices {
    /// Nanoseconds per slice: the window's length over [`SLICES`], more than zero.
    width: u64,
    slots: Box<[Tally]>,
    /// The newest slice a call was counted in: the window's end, which never moves
    /// back (a clock set back counts calls in it).
    end: u64,
    totals: Tally,
    /// The stripes' sum already taken in as successes.
    pub(super) drained: u64,
}

impl Slices {
    /// A window of `window` nanoseconds (at least [`SLICES`]).
    pub(super) fn new(window: u64) -> Slices {
        Slices {
            width: (window / SLICES).max(1),
            slots: vec![Tally::default(); SLICES as usize].into_boxed_slice(),
            end: 0,
            totals: Tally::default(),
            drained: 0,
        }
    }

    /// The slice of the time `now` (nanoseconds on the breaker's clock), never before
    /// the window's end.
    pub(super) fn slice_of(&self, now: u64) -> u64 {
        (now / self.width).max(self.end)
    }

    /// The first time of the slice after the window's end: a success before it is
    /// counted in the end slice and needs no turn of the window.
    pub(super) fn next_turn(&self) -> u64 {
        self.end.saturating_add(1).saturating_mul(self.width)
    }

    pub(super) fn totals(&self) -> Tally {
        self.totals
    }

    fn slot(&mut self, slice: u64) -> &mut Tally {
        // `slots` has `SLICES` entries, so the index is always in bounds.
        &mut self.slots[(slice % SLICES) as usize]
    }

    /// Moves the window's end to `slice` (if later), emptying the slices that leave it.
    pub(super) fn turn_to(&mut self, slice: u64) {
        if slice <= self.end {
            return;
        }
        let leaving = (slice - self.end).min(SLICES);
        for k in 0..leaving {
            // The slots of slices `end + 1 ..= end + leaving` held the oldest ones.
            let slot = core::mem::take(self.slot(self.end.wrapping_add(1 + k)));
            self.totals.sub(slot);
        }
        self.end = slice;
    }

    /// The totals of the window as it would stand at `slice` (not before its end), with
    /// `undrained` successes in its end slice; the window does not move.
    pub(super) fn totals_at(&self, slice: u64, undrained: u64) -> Tally {
        let mut totals = self.totals;
        totals.calls += undrained;
        let leaving = slice.saturating_sub(self.end).min(SLICES);
        if leaving == SLICES {
            return Tally::default();
        }
        for k in 0..leaving {
            let index = (self.end.wrapping_add(1 + k) % SLICES) as usize;
            if let Some(slot) = self.slots.get(index) {
                totals.sub(*slot);
            }
        }
        totals
    }

    /// Counts one outcome (`RECORDED` plus `FAILED` / `SLOW` bits) in the end slice.
    pub(super) fn push(&mut self, outcome: u8) {
        self.push_tally(Tally::of(outcome));
    }

    fn push_tally(&mut self, tally: Tally) {
        let end = self.end;
        self.slot(end).add(tally);
        self.totals.add(tally);
    }

    /// Counts `n` successes in the end slice. True when, on the way, the window reached
    /// `minimum_calls` with a rate met: the check the success that got it there is due
    /// (within a slice, a success can only meet a rate that way; see `time.rs`).
    pub(super) fn push_successes(&mut self, n: u64, rates: &Rates) -> bool {
        let successes = |calls| Tally {
            calls,
            failures: 0,
            slow: 0,
        };
        let minimum = u64::from(rates.minimum_calls);
        let short = minimum.saturating_sub(self.totals.calls);
        if self.totals.marked() && short > 0 && n >= short {
            self.push_tally(successes(short));
            let t = self.totals;
            let trip = rates.reached_by(t.calls, t.failures, t.slow);
            self.push_tally(successes(n - short));
            return trip;
        }
        self.push_tally(successes(n));
        false
    }

    /// Empties every slice; the window's end stays.
    pub(super) fn clear(&mut self) {
        self.slots.fill(Tally::default());
        self.totals = Tally::default();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const AT_HALF: Rates = Rates {
        minimum_calls: 2,
        failure_rate: Some(50.0),
        slow_call_rate: None,
    };

    #[test]
    fn a_slice_leaves_the_window_sixty_four_slices_after_its_own() {
        let mut s = Slices::new(64_000); // slices of 1 000 ns
        assert_eq!(s.slice_of(5_500), 5);
        s.turn_to(5);
        s.push(RECORDED | FAILED);
        s.turn_to(68);
        assert_eq!(s.totals().failures, 1, "slices 5 ..= 68: still in");
        assert_eq!(
            s.totals_at(69, 0),
            Tally::default(),
            "seen from slice 69: gone"
        );
        assert_eq!(s.totals().failures, 1, "looking does not move it");
        s.turn_to(69);
        assert_eq!(s.totals(), Tally::default());
        assert_eq!(s.next_turn(), 70_000);
    }

    #[test]
    fn the_end_never_moves_back() {
        let mut s = Slices::new(64_000);
        s.turn_to(100);
        assert_eq!(
            s.slice_of(3_000),
            100,
            "a clock set back counts in the end slice"
        );
        s.turn_to(50);
        s.push(RECORDED);
        assert_eq!(s.totals_at(163, 0).calls, 1);
        assert_eq!(s.totals_at(164, 0).calls, 0);
    }

    #[test]
    fn a_long_quiet_time_empties_every_slice_once() {
        let mut s = Slices::new(64_000);
        for slice in 0..64 {
            s.turn_to(slice);
            s.push(RECORDED | SLOW);
        }
        assert_eq!(s.totals().slow, 64);
        assert_eq!(s.totals_at(70, 2).slow, 57);
        assert_eq!(s.totals_at(70, 2).calls, 59);
        s.turn_to(1_000_000);
        assert_eq!(s.totals(), Tally::default());
    }

    #[test]
    fn piled_up_successes_are_checked_where_they_make_up_the_minimum() {
        let mut s = Slices::new(64_000);
        s.push(RECORDED | FAILED);
        // F then S S S at once: 50 % at 2 calls, the minimum.
        assert!(s.push_successes(3, &AT_HALF));
        assert_eq!(s.totals().calls, 4);
        assert!(
            !s.push_successes(3, &AT_HALF),
            "the minimum was already made up"
        );
    }
}
