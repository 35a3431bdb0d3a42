//! The algorithm alone: GCRA on one `AtomicU64`, with time passed in, so it is tested
//! (and model-checked under loom) without a clock.
//!
//! The state `tat` is the theoretical arrival time of the next call at the steady rate,
//! in nanoseconds on the limiter's clock. A call at `now` would move it to
//! `max(tat, now) + interval`; it is admitted at once when that is at most
//! `now + tolerance` (`tolerance = burst × interval`), admitted after a delay of the
//! excess when the excess is at most `max_delay`, and refused otherwise (the state is
//! left alone, so a refusal costs the others nothing).

use crate::sync::atomic::{AtomicU64, Ordering};

/// The rate, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rate {
    /// Time between two calls at the steady rate.
    pub(crate) interval: u64,
    /// `burst × interval`.
    pub(crate) tolerance: u64,
    /// The longest delay a call accepts.
    pub(crate) max_delay: u64,
}

/// `Ok(delay)` (0 = run now) after reserving the call's place, or `Err(wait)`: the time
/// until a call would be admitted without delay.
#[inline]
pub(crate) fn admit(tat: &AtomicU64, now: u64, rate: Rate) -> Result<u64, u64> {
    let mut current = tat.load(Ordering::Acquire);
    loop {
        let next = current.max(now).saturating_add(rate.interval);
        let excess = next.saturating_sub(now.saturating_add(rate.tolerance));
        if excess > rate.max_delay {
            return Err(excess);
        }
        match tat.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(excess),
            Err(seen) => current = seen,
        }
    }
}

/// Calls that would be admitted at `now` without delay.
pub(crate) fn available(tat: u64, now: u64, rate: Rate) -> u64 {
    let used = tat.saturating_sub(now);
    rate.tolerance.saturating_sub(used) / rate.interval.max(1)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn rate(interval_ms: u64, burst: u64, max_delay_ms: u64) -> Rate {
        Rate {
            interval: interval_ms * MS,
            tolerance: interval_ms * MS * burst,
            max_delay: max_delay_ms * MS,
        }
    }

    #[test]
    fn exactly_burst_at_once_then_one_per_interval() {
        let tat = AtomicU64::new(0);
        let r = rate(100, 5, 0);
        let now = 10_000 * MS;
        for _ in 0..5 {
            assert_eq!(admit(&tat, now, r), Ok(0));
        }
        assert_eq!(admit(&tat, now, r), Err(100 * MS));
        assert_eq!(admit(&tat, now + 99 * MS, r), Err(MS));
        assert_eq!(admit(&tat, now + 100 * MS, r), Ok(0));
        assert_eq!(admit(&tat, now + 100 * MS, r), Err(100 * MS));
        assert_eq!(
            available(tat.load(Ordering::Relaxed), now + 1000 * MS, r),
            5
        );
    }

    #[test]
    fn a_delay_reserves_a_later_place() {
        let tat = AtomicU64::new(0);
        let r = rate(100, 1, 250);
        let now = 10_000 * MS;
        assert_eq!(admit(&tat, now, r), Ok(0));
        assert_eq!(admit(&tat, now, r), Ok(100 * MS));
        assert_eq!(admit(&tat, now, r), Ok(200 * MS));
        assert_eq!(admit(&tat, now, r), Err(300 * MS));
    }

    #[test]
    fn a_clock_going_back_admits_nothing_extra() {
        let tat = AtomicU64::new(0);
        let r = rate(100, 1, 0);
        assert_eq!(admit(&tat, 10_000 * MS, r), Ok(0));
        assert!(admit(&tat, 5_000 * MS, r).is_err());
    }
}
