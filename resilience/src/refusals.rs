//! The WARN of refused calls, shared by every pattern that refuses (an open breaker, a
//! full bulkhead, a spent rate): at most one per instance per second, carrying the count
//! of refusals since the one before, so a storm of refusals is a line a second, not a
//! line a call (570 lines in 1.2 s before).
//!
//! HOT PATH: a refusal that is not logged costs one relaxed load and two compares, on a
//! time the refusing pattern has already read; nothing is allocated and nothing written.
//! The logged one (once a second) reads the instance's refusal count, whose reading may
//! cost more (a breaker sums its per-thread cells).

use std::time::Duration;

use crate::sync::atomic::{AtomicU64, Ordering};

/// At most one WARN per this many milliseconds.
const PERIOD_MS: u64 = 1_000;

/// One instance's refusal WARNs: when the next may be given, and the refusal count at
/// the last one.
#[derive(Debug)]
pub(crate) struct RefusalWarn {
    /// Milliseconds on the instance's clock from which the next WARN may be given.
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

    /// Whether the refusal made at `now` (on the instance's clock) is the one to log:
    /// `Some(refusals since the last WARN)`, this one included, reading `total` (every
    /// refusal the instance has counted, this one included) only then.
    #[inline]
    pub(crate) fn due(&self, now: Duration, total: impl FnOnce() -> u64) -> Option<u64> {
        let now_ms = now
            .as_secs()
            .saturating_mul(1_000)
            .saturating_add(u64::from(now.subsec_millis()));
        let next = self.next.load(Ordering::Relaxed);
        // Not yet, unless the clock went back by more than a period.
        if now_ms < next && next - now_ms <= PERIOD_MS {
            return None;
        }
        self.take(next, now_ms, total)
    }

    #[cold]
    #[inline(never)]
    fn take(&self, next: u64, now_ms: u64, total: impl FnOnce() -> u64) -> Option<u64> {
        // One refusing thread wins the period; the others count toward the next WARN.
        self.next
            .compare_exchange(
                next,
                now_ms.saturating_add(PERIOD_MS),
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

    #[test]
    fn one_warn_a_second_with_the_count_since_the_last() {
        let warn = RefusalWarn::new();
        let mut total = 0;
        let mut logged = Vec::new();
        // 500 refusals, one a millisecond, from 10 s on the clock.
        for i in 0..500u64 {
            total += 1;
            if let Some(n) = warn.due(Duration::from_millis(10_000 + i), || total) {
                logged.push((i, n));
            }
        }
        assert_eq!(logged, [(0, 1)]);
        // The next second: one WARN with the 499 not logged and this one.
        total += 1;
        assert_eq!(warn.due(Duration::from_millis(11_000), || total), Some(500));
        total += 1;
        assert_eq!(warn.due(Duration::from_millis(11_999), || total), None);
        // A clock set back far: logged at once, not a long silence.
        total += 1;
        assert_eq!(warn.due(Duration::from_millis(10), || total), Some(2));
    }
}
