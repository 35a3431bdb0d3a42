//! [`Window`]: the round-trip times of the calls that end, summed lock-free until the
//! window closes and one [`Sample`](super::algorithm::Sample) goes to the algorithm.
//!
//! A window closes once it is both long enough (twice the last round-trip time, between
//! 1 ms and 1 s) and has at least [`MIN_SAMPLES`] timed calls, or a dropped call; a window
//! that reaches 1 s with too few is thrown away, as Netflix's `WindowedLimit` does (a few
//! calls, health checks say, would otherwise pass for the unloaded time).
//!
//! At high rates not every call is timed: one call in `stride` (per thread) is, with
//! `stride` chosen at each close so that about [`TARGET_SAMPLES`] calls of a window are.
//! An untimed call reads no clock.

use core::cell::Cell;

use crate::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Timed calls a window needs before it counts.
pub(crate) const MIN_SAMPLES: u64 = 10;
/// Timed calls a window aims for.
const TARGET_SAMPLES: u64 = 32;
/// The shortest and the longest window, in nanoseconds.
pub(crate) const MIN_WINDOW: u64 = 1_000_000;
pub(crate) const MAX_WINDOW: u64 = 1_000_000_000;

std::thread_local! {
    /// Calls until this thread times one again (shared by every limiter: it only spreads
    /// the timed calls).
    static COUNTDOWN: Cell<u32> = const { Cell::new(0) };
}

/// The sums of the window open now.
#[derive(Debug, Default)]
pub(crate) struct Window {
    count: AtomicU64,
    rtt_sum: AtomicU64,
    drops: AtomicU32,
    max_in_flight: AtomicU32,
    /// When the window may close, on the limiter's timeline (0: at the first check).
    ends_at: AtomicU64,
    stride: AtomicU32,
}

/// What a closing window held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Closed {
    pub(crate) count: u64,
    /// The mean round-trip time of its timed calls (0 if none was timed).
    pub(crate) rtt: u64,
    pub(crate) drops: u32,
    pub(crate) max_in_flight: u32,
}

impl Window {
    /// Whether the call starting now is timed.
    #[inline]
    pub(crate) fn timed(&self) -> bool {
        let stride = self.stride.load(Ordering::Relaxed);
        if stride <= 1 {
            return true;
        }
        COUNTDOWN.with(|left| match left.get() {
            0 => {
                left.set(stride - 1);
                true
            }
            n => {
                left.set(n - 1);
                false
            }
        })
    }

    /// `in_flight` calls run at once now.
    #[inline]
    pub(crate) fn saw_in_flight(&self, in_flight: u32) {
        if in_flight > self.max_in_flight.load(Ordering::Relaxed) {
            self.max_in_flight.fetch_max(in_flight, Ordering::Relaxed);
        }
    }

    /// A timed call took `rtt`; true if the window may close at `now`.
    #[inline]
    pub(crate) fn add(&self, rtt: u64, now: u64) -> bool {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.rtt_sum.fetch_add(rtt, Ordering::Relaxed);
        now >= self.ends_at.load(Ordering::Relaxed)
    }

    /// A call was dropped; true if the window may close at `now`.
    pub(crate) fn drop_seen(&self, now: u64) -> bool {
        self.drops.fetch_add(1, Ordering::Relaxed);
        now >= self.ends_at.load(Ordering::Relaxed)
    }

    /// Closes the window at `now` if it is ready (the caller holds the limiter's state
    /// lock, so one thread closes it): its sums, the next window opened for about twice
    /// `rtt` (the last known round-trip time). `None` if not ready yet; a window too
    /// thin at `MAX_WINDOW` is thrown away (`Some` with a count of 0 and no drop).
    pub(crate) fn close(
        &self,
        now: u64,
        started_at: u64,
        rtt: u64,
        in_flight: u32,
    ) -> Option<Closed> {
        if now < self.ends_at.load(Ordering::Relaxed) {
            return None;
        }
        let count = self.count.load(Ordering::Relaxed);
        let drops = self.drops.load(Ordering::Relaxed);
        let too_old = now.saturating_sub(started_at) >= MAX_WINDOW;
        if count < MIN_SAMPLES && drops == 0 && !too_old {
            return None;
        }
        let count = self.count.swap(0, Ordering::Relaxed);
        let sum = self.rtt_sum.swap(0, Ordering::Relaxed);
        let drops = self.drops.swap(0, Ordering::Relaxed);
        let max_in_flight = self.max_in_flight.swap(in_flight, Ordering::Relaxed);
        let stride = u64::from(self.stride.load(Ordering::Relaxed).max(1));
        let next_stride = (count.saturating_mul(stride) / TARGET_SAMPLES).clamp(1, 1 << 16);
        self.stride.store(next_stride as u32, Ordering::Relaxed);
        let mean = sum.checked_div(count).unwrap_or(0);
        let length = rtt
            .max(mean)
            .saturating_mul(2)
            .clamp(MIN_WINDOW, MAX_WINDOW);
        self.ends_at
            .store(now.saturating_add(length), Ordering::Relaxed);
        if count < MIN_SAMPLES && drops == 0 {
            return Some(Closed {
                count: 0,
                rtt: 0,
                drops: 0,
                max_in_flight,
            });
        }
        Some(Closed {
            count,
            rtt: mean,
            drops,
            max_in_flight,
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_window_closes_with_enough_samples_once_long_enough() {
        let w = Window::default();
        for i in 0..9 {
            assert!(w.add(10 * MS, i));
        }
        assert_eq!(w.close(9, 0, 0, 0), None, "nine samples are too few");
        w.saw_in_flight(7);
        w.add(20 * MS, 10);
        let closed = w.close(10, 0, 0, 3).expect("ten samples");
        assert_eq!(
            closed,
            Closed {
                count: 10,
                rtt: 11 * MS,
                drops: 0,
                max_in_flight: 7
            }
        );
        // The next one lasts twice the mean.
        assert!(!w.add(10 * MS, 10 + 21 * MS));
        assert!(w.add(10 * MS, 10 + 22 * MS));
    }

    #[test]
    fn a_drop_closes_at_once_and_a_thin_old_window_is_thrown_away() {
        let w = Window::default();
        assert!(w.drop_seen(5));
        assert_eq!(w.close(5, 0, 0, 0).map(|c| c.drops), Some(1));
        w.add(10 * MS, 2 * MAX_WINDOW);
        let thrown = w.close(2 * MAX_WINDOW, 0, 0, 0).unwrap();
        assert_eq!((thrown.count, thrown.drops), (0, 0));
    }

    #[test]
    fn at_high_rates_one_call_in_stride_is_timed() {
        let w = Window::default();
        for _ in 0..320 {
            w.add(MS, 0);
        }
        w.close(0, 0, 0, 0).unwrap();
        assert_eq!(w.stride.load(Ordering::Relaxed), 10);
        let timed = (0..100).filter(|_| w.timed()).count();
        assert_eq!(timed, 10);
    }
}
