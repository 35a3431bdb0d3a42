//! The WARN of refused calls, shared by every pattern that refuses (an open breaker, a
//! full bulkhead, a spent rate): at most one per instance per second, carrying the count
//! of refusals since the one before, so a storm of refusals is a line a second, not a
//! line a call (570 lines in 1.2 s before).
//!
//! HOT PATH: a refusal that is not logged costs one relaxed load and a compare, on a time
//! the refusing pattern has already read; nothing is allocated and nothing written. A
//! clock set back is told by the pattern that sees it (`clock_went_back`), off that path.
//! The logged one (once a second) reads the instance's refusal count, whose reading may
//! cost more (a breaker sums its per-thread cells).

use std::time::Duration;

use crate::sync::atomic::{AtomicU64, Ordering};

/// One instance's refusal WARNs: from which second the next may be given, and the
/// refusal count at the last one.
///
/// Time is read in whole seconds of the instance's clock (`Duration::as_secs`, a field
/// read: no arithmetic on the refusing path), and the next WARN may come from the second
/// after next: WARNs are 1 to 2 seconds apart.
#[derive(Debug)]
pub(crate) struct RefusalWarn {
    /// The second on the instance's clock from which the next WARN may be given.
    next: AtomicU64,
    /// The instance's refusal count when the last WARN was given.
    reported: AtomicU64,
}

impl RefusalWarn {
    pub(crate) fn new() -> RefusalWarn {
        RefusalWarn {
            next: AtomicU64::new(0),
            reported: AtomicU64::new(0),
        }
    }

    /// Whether the refusal made at `second` of the instance's clock is the one to log:
    /// `Some(refusals since the last WARN)`, this one included, reading `total` (every
    /// refusal the instance has counted, this one included) only then.
    #[inline]
    pub(crate) fn due(&self, second: u64, total: impl FnOnce() -> u64) -> Option<u64> {
        let next = self.next.load(Ordering::Relaxed);
        if second < next {
            return None;
        }
        self.take(next, second, total)
    }

    /// [`due`](Self::due) for a caller whose clock may go back unseen: due too when the
    /// next WARN is further ahead than it can be (more than two seconds: a clock set
    /// back). Two subtractions more; for refusals off the hot path (a bulkhead's, a rate
    /// limiter's).
    #[inline]
    pub(crate) fn due_any_clock(&self, now: Duration, total: impl FnOnce() -> u64) -> Option<u64> {
        let second = now.as_secs();
        let next = self.next.load(Ordering::Relaxed);
        // Not yet: `next` is one or two seconds ahead.
        if next.wrapping_sub(second).wrapping_sub(1) < 2 {
            return None;
        }
        self.take(next, second, total)
    }

    /// The instance saw its clock go back: the next refusal is logged whatever `next`
    /// says, so a clock set back never silences the WARNs until it is back where it was.
    #[cold]
    pub(crate) fn clock_went_back(&self) {
        self.next.store(0, Ordering::Relaxed);
    }

    #[cold]
    #[inline(never)]
    fn take(&self, next: u64, second: u64, total: impl FnOnce() -> u64) -> Option<u64> {
        // One refusing thread wins the period; the others count toward the next WARN.
        self.next
            .compare_exchange(
                next,
                second.saturating_add(2),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .ok()?;
        let total = total();
        let before = self.reported.swap(total, Ordering::Relaxed);
        Some(total.saturating_sub(before).max(1))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The second of a clock reading `ms` milliseconds.
    fn secs(ms: u64) -> u64 {
        Duration::from_millis(ms).as_secs()
    }

    #[test]
    fn one_warn_a_second_with_the_count_since_the_last() {
        let warn = RefusalWarn::new();
        let mut total = 0;
        let mut logged = Vec::new();
        // 500 refusals, one a millisecond, from 10 s on the clock.
        for i in 0..500u64 {
            total += 1;
            if let Some(n) = warn.due(secs(10_000 + i), || total) {
                logged.push((i, n));
            }
        }
        assert_eq!(logged, [(0, 1)]);
        // Not within the second after it either.
        total += 1;
        assert_eq!(warn.due(secs(11_999), || total), None);
        // The second after next: one WARN with the 500 not logged and this one.
        total += 1;
        assert_eq!(warn.due(secs(12_000), || total), Some(501));
        total += 1;
        assert_eq!(warn.due(secs(12_999), || total), None);
        // A clock set back, as its pattern says: logged at once, not a long silence.
        total += 1;
        assert_eq!(warn.due(secs(10), || total), None);
        warn.clock_went_back();
        assert_eq!(warn.due(secs(10), || total), Some(2));
        // Without being told, `due_any_clock` sees a clock set back by itself.
        let any = RefusalWarn::new();
        assert_eq!(any.due_any_clock(Duration::from_secs(100), || 1), Some(1));
        assert_eq!(any.due_any_clock(Duration::from_secs(101), || 2), None);
        assert_eq!(any.due_any_clock(Duration::from_secs(5), || 3), Some(2));
        // At second 0 from the start: the first is logged too.
        let fresh = RefusalWarn::new();
        assert_eq!(fresh.due(0, || 1), Some(1));
        assert_eq!(fresh.due(secs(999), || 2), None);
    }
}
