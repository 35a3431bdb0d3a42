//! The algorithm alone: GCRA on one `AtomicU64`, with time passed in, so it is tested
//! (and model-checked under loom) without a clock.
//!
//! The state `tat` is the theoretical arrival time of the next call at the steady rate,
//! in nanoseconds on the limiter's clock. A call at `now` would move it to
//! `max(tat, now) + interval`; it is admitted at once when that is at most
//! `now + tolerance` (`tolerance = burst × interval`), admitted after a delay of the
//! excess when the excess is at most `max_delay`, and refused otherwise (the state is
//! left alone, so a refusal costs the others nothing).
//!
//! Time is not trusted to go forward. Normally `tat` is never further ahead of `now`
//! than `tolerance + max_delay`; a `tat` further ahead than that plus one period means
//! the clock went back (or the burst was lowered), and it is brought back to that
//! horizon, so no wait is ever longer than one period. Near the end of the clock's range
//! (`u64::MAX` nanoseconds) a `tat` that would not fit refuses the call: arithmetic
//! never wraps, and never saturates to an admission.

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

impl Rate {
    /// The rate of `interval`, `burst` and `max_delay` (in nanoseconds).
    pub(crate) fn new(interval: u64, burst: u32, max_delay: u64) -> Rate {
        let interval = interval.max(1);
        Rate {
            interval,
            tolerance: interval.saturating_mul(u64::from(burst)),
            max_delay,
        }
    }

    /// How far ahead of `now` the state may be, `per` being the period:
    /// `tolerance + max_delay + per - interval`. Further is a clock that went back.
    fn horizon(&self, per: u64) -> u64 {
        self.tolerance
            .saturating_add(self.max_delay)
            .saturating_add(per.saturating_sub(self.interval))
    }
}

/// An admitted call's place: when it runs, and the state it left, by which it can be
/// given back ([`Place::delay`] zero: it runs now, and is never given back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    /// Nanoseconds to wait before running.
    pub(crate) delay: u64,
    /// When it runs, on the limiter's clock: the admission's `now + delay`.
    pub(crate) at: u64,
    /// The `tat` its admission set.
    pub(crate) tat: u64,
    /// The time it took in the rate: the interval times the call's cost.
    pub(crate) interval: u64,
}

impl Place {
    /// The place `admit` reserved at `now` for `increment` (the interval times the
    /// call's cost), answering `Ok(Reserved)`.
    pub(crate) fn at(reserved: Reserved, now: u64, increment: u64) -> Place {
        Place {
            delay: reserved.delay,
            at: now + reserved.delay,
            tat: reserved.tat,
            interval: increment,
        }
    }
}

/// What `admit` reserved: the delay, and the `tat` it set (two registers: the fast path
/// never builds a [`Place`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reserved {
    /// Nanoseconds to wait before running (0: run now).
    pub(crate) delay: u64,
    /// The `tat` it set.
    pub(crate) tat: u64,
}

/// `Ok` after reserving the call's place (a `delay` of 0 = run now), or `Err(wait)`:
/// the time until the call would be admitted without delay (`u64::MAX` when the clock is
/// at the end of its range). `increment` is the time the call takes in the rate: one
/// `interval` for a call of cost 1, `cost × interval` for a weighted one (which the
/// caller has checked is at most `tolerance`, so some wait admits it). `per` reads the
/// period, needed only when the state is further ahead than a delayed call can put it.
#[inline]
pub(crate) fn admit(
    tat: &AtomicU64,
    now: u64,
    rate: Rate,
    increment: u64,
    per: impl Fn() -> u64,
) -> Result<Reserved, u64> {
    let mut current = tat.load(Ordering::Acquire);
    loop {
        let mut base = current.max(now);
        // Never further ahead than this, but for a clock that went back, a burst that
        // was lowered, or the period after one of them.
        if base - now > rate.tolerance.saturating_add(rate.max_delay) {
            base = beyond(tat, current, now, rate.horizon(per()));
        }
        let Some(next) = base.checked_add(increment) else {
            return Err(u64::MAX);
        };
        // `now + tolerance` past the end of the range: `next`, which fits, is below it.
        let excess = next.saturating_sub(now.saturating_add(rate.tolerance));
        if excess > rate.max_delay {
            return Err(excess);
        }
        match tat.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                return Ok(Reserved {
                    delay: excess,
                    tat: next,
                })
            }
            Err(seen) => current = seen,
        }
    }
}

/// The state `current` is further ahead of `now` than a delayed call puts it. Within
/// `horizon` it is the period after a rebase (or a lowered burst): kept. Beyond, the
/// clock went back: the state is brought back to the horizon, so the wait is one period
/// at most, and stays so as the clock moves on.
#[cold]
#[inline(never)]
fn beyond(tat: &AtomicU64, current: u64, now: u64, horizon: u64) -> u64 {
    if current - now <= horizon {
        return current;
    }
    let base = now.saturating_add(horizon);
    // Lost to a racing admission: that one moved the state, and the caller's next
    // compare-and-swap sees it.
    let _ = tat.compare_exchange(current, base, Ordering::AcqRel, Ordering::Acquire);
    base
}

/// Gives back the place of a call that will not run, if it is the last one reserved:
/// the state moves back by its interval. `false` when a later place was reserved since
/// (the caller keeps it as a gap for the next delayed call).
pub(crate) fn give_back_last(tat: &AtomicU64, place: Place) -> bool {
    tat.compare_exchange(
        place.tat,
        place.tat - place.interval,
        Ordering::AcqRel,
        Ordering::Acquire,
    )
    .is_ok()
}

/// Units (calls of cost 1) that would be admitted at `now` without delay.
pub(crate) fn available(tat: u64, now: u64, rate: Rate) -> u64 {
    let used = tat.saturating_sub(now).min(rate.tolerance);
    (rate.tolerance - used) / rate.interval.max(1)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn rate(interval_ms: u64, burst: u32, max_delay_ms: u64) -> Rate {
        Rate::new(interval_ms * MS, burst, max_delay_ms * MS)
    }

    /// `admit` with a period of 10 intervals.
    fn admit(tat: &AtomicU64, now: u64, rate: Rate) -> Result<Place, u64> {
        super::admit(tat, now, rate, rate.interval, || rate.interval * 10)
            .map(|r| Place::at(r, now, rate.interval))
    }

    fn delay(admitted: Result<Place, u64>) -> Result<u64, u64> {
        admitted.map(|p| p.delay)
    }

    #[test]
    fn exactly_burst_at_once_then_one_per_interval() {
        let tat = AtomicU64::new(0);
        let r = rate(100, 5, 0);
        let now = 10_000 * MS;
        for _ in 0..5 {
            assert_eq!(delay(admit(&tat, now, r)), Ok(0));
        }
        assert_eq!(admit(&tat, now, r), Err(100 * MS));
        assert_eq!(admit(&tat, now + 99 * MS, r), Err(MS));
        assert_eq!(delay(admit(&tat, now + 100 * MS, r)), Ok(0));
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
        assert_eq!(delay(admit(&tat, now, r)), Ok(0));
        let second = admit(&tat, now, r).unwrap();
        assert_eq!((second.delay, second.at), (100 * MS, now + 100 * MS));
        assert_eq!(delay(admit(&tat, now, r)), Ok(200 * MS));
        assert_eq!(admit(&tat, now, r), Err(300 * MS));
    }

    #[test]
    fn the_last_place_given_back_is_taken_again() {
        let tat = AtomicU64::new(0);
        let r = rate(100, 1, 250);
        let now = 10_000 * MS;
        admit(&tat, now, r).unwrap();
        let second = admit(&tat, now, r).unwrap();
        let third = admit(&tat, now, r).unwrap();
        assert!(!give_back_last(&tat, second), "a later place stands");
        assert!(give_back_last(&tat, third));
        assert!(give_back_last(&tat, second));
        assert_eq!(delay(admit(&tat, now, r)), Ok(100 * MS));
    }

    #[test]
    fn a_clock_going_back_admits_nothing_extra() {
        let tat = AtomicU64::new(0);
        let r = rate(100, 1, 0);
        assert_eq!(delay(admit(&tat, 10_000 * MS, r)), Ok(0));
        assert!(admit(&tat, 9_950 * MS, r).is_err());
    }

    #[test]
    fn a_clock_set_far_back_waits_one_period_at_most() {
        // 10 calls a second, burst 1: set back from 1000 s to 10 s.
        let tat = AtomicU64::new(0);
        let r = Rate::new(100 * MS, 1, 0);
        let admit = |tat: &AtomicU64, now, r| {
            super::admit(tat, now, r, r.interval, || 1_000 * MS)
                .map(|p| Place::at(p, now, r.interval))
        };
        for i in 0..10 {
            admit(&tat, 1_000_000 * MS + i * 100 * MS, r).unwrap();
        }
        let back = 10_000 * MS;
        let wait = admit(&tat, back, r).unwrap_err();
        assert_eq!(wait, 1_000 * MS, "one period, not 16 min 30 s");
        // And the period passes on the clock as it is now.
        assert!(admit(&tat, back + 999 * MS, r).is_err());
        assert_eq!(delay(admit(&tat, back + 1_000 * MS, r)), Ok(0));
        assert!(admit(&tat, back + 1_000 * MS, r).is_err());
    }

    #[test]
    fn at_the_end_of_the_clock_s_range_calls_are_refused_not_admitted() {
        let r = Rate::new(100 * MS, 5, 0);
        let tat = AtomicU64::new(0);
        let mut admitted = 0;
        for i in 0..10 {
            if admit(&tat, u64::MAX - 10 * MS + i, r).is_ok() {
                admitted += 1;
            }
        }
        // `now + tolerance` is past the end: no place fits after the first.
        assert_eq!(admitted, 0);
        let tat = AtomicU64::new(0);
        let huge = Rate::new(u64::MAX / 2, 1, 0);
        assert!(admit(&tat, u64::MAX / 2 + 2, huge).is_err());
        let admitted = (0..10)
            .filter(|_| admit(&tat, u64::MAX / 2 + 2, huge).is_ok())
            .count();
        assert_eq!(admitted, 0, "nothing admitted past the end of the range");
    }

    #[test]
    fn a_weighted_call_takes_its_cost_in_intervals() {
        // 100 units a second (10 ms each), burst 100: 60 then 50 at the same instant.
        let tat = AtomicU64::new(0);
        let r = rate(10, 100, 0);
        let now = 10_000 * MS;
        let admit_n = |n: u64, now: u64| {
            super::admit(&tat, now, r, n * r.interval, || 1_000 * MS)
                .map(|p| Place::at(p, now, n * r.interval).delay)
        };
        assert_eq!(admit_n(60, now), Ok(0));
        assert_eq!(available(tat.load(Ordering::Relaxed), now, r), 40);
        // 10 units missing: 100 ms.
        assert_eq!(admit_n(50, now), Err(100 * MS));
        assert_eq!(admit_n(50, now + 99 * MS), Err(MS));
        assert_eq!(admit_n(50, now + 100 * MS), Ok(0));
        assert_eq!(available(tat.load(Ordering::Relaxed), now + 100 * MS, r), 0);
    }
}
