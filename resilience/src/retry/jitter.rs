//! [`Jitter`]: spreading retry delays so that clients which failed together do not
//! retry together.

use std::ops::RangeInclusive;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::clock::duration_nanos;

/// How each nominal [`Backoff`](super::Backoff) delay `d` is randomised.
///
/// | kind | delay drawn uniformly from |
/// |---|---|
/// | `None` | exactly `d` |
/// | `Full` | `0 ..= d` |
/// | `Equal` | `d/2 ..= d` |
/// | `Decorrelated` | `d ..= max(d, 3 × previous)` |
/// | `Spread(f)` | `(1 − f)·d ..= (1 + f)·d` (`Spread(0.5)`: 50–150 %, the default) |
///
/// `previous` is the delay drawn before the previous retry (for the first retry, `d`
/// itself): decorrelated jitter is AWS's "decorrelated jitter" with the backoff's delay
/// as its floor, so each delay depends on the last one drawn rather than on the retry
/// number alone. The [schedule](super::Schedule) then caps every kind at the exponential
/// backoff's `max`; with `Fixed` or `Linear` backoff, which have no cap, decorrelated
/// delays are kept within `3 × d` so they cannot grow without bound.
///
/// Bounds are computed in whole nanoseconds, rounding down; delays beyond 584 years
/// saturate.
///
/// ```
/// use rand::{rngs::SmallRng, SeedableRng};
/// use resilience::retry::Jitter;
/// use std::time::Duration;
///
/// let mut rng = SmallRng::seed_from_u64(7);
/// let d = Duration::from_secs(2);
/// for _ in 0..1000 {
///     let drawn = Jitter::Equal.apply(d, d, &mut rng);
///     assert!(drawn >= Duration::from_secs(1) && drawn <= d);
/// }
/// assert_eq!(Jitter::Spread(0.5).range(d, d), Duration::from_secs(1)..=Duration::from_secs(3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Jitter {
    /// No randomisation.
    None,
    /// Anywhere from zero to the delay.
    Full,
    /// Half the delay, plus up to the other half.
    Equal,
    /// From the delay up to three times the previous delay.
    Decorrelated,
    /// The delay times a factor drawn from `1 − f ..= 1 + f`, with `0 < f ≤ 1`.
    Spread(f64),
}

impl Default for Jitter {
    /// `Spread(0.5)`: 50–150 % of the delay, the attribute's default.
    ///
    /// ```
    /// assert_eq!(resilience::retry::Jitter::default(), resilience::retry::Jitter::Spread(0.5));
    /// ```
    fn default() -> Self {
        Jitter::Spread(0.5)
    }
}

impl Jitter {
    /// The range a delay is drawn from, given the nominal `delay` and the `previous`
    /// delay drawn (see the table on [`Jitter`]). Before any cap.
    ///
    /// An invalid spread (NaN, or outside `0 < f ≤ 1`) is clamped into range here rather
    /// than panicking; [`RetryConfig::validate`](super::RetryConfig::validate) refuses it.
    ///
    /// ```
    /// use resilience::retry::Jitter;
    /// use std::time::Duration;
    ///
    /// let s = Duration::from_secs;
    /// assert_eq!(Jitter::Full.range(s(4), s(4)), Duration::ZERO..=s(4));
    /// assert_eq!(Jitter::Decorrelated.range(s(1), s(2)), s(1)..=s(6));
    /// ```
    pub fn range(&self, delay: Duration, previous: Duration) -> RangeInclusive<Duration> {
        let (lo, hi) = self.nanos_range(delay, previous);
        Duration::from_nanos(lo)..=Duration::from_nanos(hi)
    }

    /// Draws a delay from [`range`](Jitter::range) with `rng`.
    ///
    /// Production code draws from a fast per-thread generator; tests pass a seeded one.
    ///
    /// ```
    /// use rand::{rngs::SmallRng, SeedableRng};
    /// use resilience::retry::Jitter;
    /// use std::time::Duration;
    ///
    /// let d = Duration::from_millis(100);
    /// let mut rng = SmallRng::seed_from_u64(1);
    /// assert!(Jitter::Full.apply(d, d, &mut rng) <= d);
    /// assert_eq!(Jitter::None.apply(d, d, &mut rng), d);
    /// ```
    pub fn apply<R: Rng + ?Sized>(
        &self,
        delay: Duration,
        previous: Duration,
        rng: &mut R,
    ) -> Duration {
        let (lo, hi) = self.nanos_range(delay, previous);
        if lo >= hi {
            return Duration::from_nanos(lo);
        }
        Duration::from_nanos(rng.random_range(lo..=hi))
    }

    fn nanos_range(&self, delay: Duration, previous: Duration) -> (u64, u64) {
        let d = duration_nanos(delay);
        match *self {
            Jitter::None => (d, d),
            Jitter::Full => (0, d),
            Jitter::Equal => (d / 2, d),
            Jitter::Decorrelated => (d, d.max(duration_nanos(previous).saturating_mul(3))),
            Jitter::Spread(f) => {
                let f = if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) };
                // `as` saturates, which is the behaviour wanted for huge delays.
                let scale = |k: f64| (d as f64 * k) as u64;
                let (lo, hi) = (scale(1.0 - f), scale(1.0 + f));
                (lo.min(d), hi.max(d))
            }
        }
    }
}
