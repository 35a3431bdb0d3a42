//! The time window behind `window` + `max_failures_per_window`: the times of the last
//! N-1 failures in a ring. Only failures touch it, so a successful call pays nothing.
//!
//! The N-th failure overwrites the slot of the failure N-1 before it; if that one is
//! younger than the window, N failures fell within it and the breaker opens.

use std::time::Duration;

use crate::clock::duration_nanos;
use crate::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Slot value for "no failure": times are stored plus one.
const EMPTY: u64 = 0;

pub(super) struct FailureTimes {
    cursor: AtomicU32,
    len: AtomicU32,
    slots: Box<[AtomicU64]>,
}

impl FailureTimes {
    /// Room for `max_failures - 1` times (at least `capacity` slots).
    pub(super) fn new(max_failures: u32, capacity: u32) -> Self {
        let len = max_failures.saturating_sub(1);
        FailureTimes {
            cursor: AtomicU32::new(0),
            len: AtomicU32::new(len),
            slots: (0..capacity.max(len))
                .map(|_| AtomicU64::new(EMPTY))
                .collect(),
        }
    }

    pub(super) fn capacity(&self) -> u32 {
        u32::try_from(self.slots.len()).unwrap_or(u32::MAX)
    }

    /// Records a failure at `now`; true when it makes `max_failures` within `window`.
    pub(super) fn record(&self, now: Duration, window: Duration) -> bool {
        let len = self.len.load(Relaxed);
        if len == 0 {
            // `max_failures_per_window = 1`: any failure is enough.
            return true;
        }
        let at = self.cursor.fetch_add(1, Relaxed) % len;
        let Some(slot) = self.slots.get(at as usize) else {
            return false;
        };
        let now = duration_nanos(now);
        let old = slot.swap(now.saturating_add(1), Relaxed);
        // A clock gone backwards makes `old` look recent: it errs towards opening.
        old != EMPTY && now.saturating_sub(old - 1) < duration_nanos(window)
    }

    /// The failures younger than `window` at `now`.
    pub(super) fn recent(&self, now: Duration, window: Duration) -> u32 {
        let (now, window) = (duration_nanos(now), duration_nanos(window));
        let len = self.len.load(Relaxed) as usize;
        let n = self.slots[..len.min(self.slots.len())]
            .iter()
            .map(|s| s.load(Relaxed))
            .filter(|&t| t != EMPTY && now.saturating_sub(t - 1) < window)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub(super) fn clear(&self) {
        for slot in self.slots.iter() {
            slot.store(EMPTY, Relaxed);
        }
    }

    /// Keeps `max_failures - 1` times (fitting the capacity), emptied.
    pub(super) fn set_max_failures(&self, max_failures: u32) {
        let len = max_failures.saturating_sub(1).min(self.capacity());
        self.len.store(len, Relaxed);
        self.clear();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn opens_on_the_nth_failure_within_the_window() {
        let w = FailureTimes::new(3, 0);
        assert!(!w.record(Duration::ZERO, S * 10));
        assert!(!w.record(S * 4, S * 10));
        assert!(w.record(S * 9, S * 10));
        assert_eq!(w.recent(S * 9, S * 10), 2);
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_open() {
        let w = FailureTimes::new(3, 0);
        for i in 0..10 {
            assert!(!w.record(S * 6 * i, S * 10), "failure {i}");
        }
    }

    #[test]
    fn one_failure_is_enough_when_the_limit_is_one() {
        assert!(FailureTimes::new(1, 0).record(S, S));
    }
}
