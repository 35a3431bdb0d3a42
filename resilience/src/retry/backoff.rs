//! [`Backoff`]: the nominal delay before each retry, before jitter.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration_serde;

/// How the delay grows from one retry to the next, before [`Jitter`](super::Jitter).
///
/// Retries are numbered from 1: retry 1 is the wait before the second call, retry 2 the
/// wait before the third, and so on. Only [`Exponential`](Backoff::Exponential) has a cap
/// (`max`); `Fixed` and `Linear` delays are exactly as written, and
/// [`RetryConfig::max_elapsed`](super::RetryConfig::max_elapsed) is the way to bound them.
///
/// ```
/// use resilience::retry::Backoff;
/// use std::time::Duration;
///
/// let ms = Duration::from_millis;
/// let backoff = Backoff::Exponential { base: ms(100), factor: 2.0, max: ms(500) };
/// let delays: Vec<_> = (1..=5).map(|retry| backoff.delay(retry)).collect();
/// assert_eq!(delays, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Backoff {
    /// Retry at once.
    None,
    /// The same delay before every retry.
    Fixed(#[serde(with = "duration_serde")] Duration),
    /// `base`, then `base + step`, `base + 2 × step`, … (no cap).
    Linear {
        /// The delay before the first retry.
        #[serde(with = "duration_serde")]
        base: Duration,
        /// Added for each further retry.
        #[serde(with = "duration_serde")]
        step: Duration,
    },
    /// `base`, then `base × factor`, `base × factor²`, …, never more than `max`.
    Exponential {
        /// The delay before the first retry.
        #[serde(with = "duration_serde")]
        base: Duration,
        /// The growth from one retry to the next; at least 1.
        factor: f64,
        /// The cap, applied after jitter too.
        #[serde(with = "duration_serde")]
        max: Duration,
    },
}

impl Default for Backoff {
    /// `Exponential { base: 1s, factor: 2.0, max: 60s }`, the attribute's default.
    ///
    /// ```
    /// use resilience::retry::Backoff;
    /// use std::time::Duration;
    /// assert_eq!(Backoff::default().delay(3), Duration::from_secs(4));
    /// ```
    fn default() -> Self {
        Backoff::Exponential {
            base: Duration::from_secs(1),
            factor: 2.0,
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The nominal delay before retry number `retry` (1 = before the second call).
    ///
    /// `delay(0)` is zero: nothing waits before the first call. Arithmetic saturates (a
    /// linear delay past `Duration::MAX` is `Duration::MAX`); an exponential delay never
    /// exceeds `max`, whatever the factor or the retry number.
    ///
    /// ```
    /// use resilience::retry::Backoff;
    /// use std::time::Duration;
    ///
    /// let s = Duration::from_secs;
    /// let linear = Backoff::Linear { base: s(1), step: s(2) };
    /// assert_eq!([linear.delay(1), linear.delay(2), linear.delay(3)], [s(1), s(3), s(5)]);
    /// assert_eq!(Backoff::Fixed(s(7)).delay(9), s(7));
    /// assert_eq!(Backoff::None.delay(4), Duration::ZERO);
    /// ```
    pub fn delay(&self, retry: u32) -> Duration {
        if retry == 0 {
            return Duration::ZERO;
        }
        let steps = retry - 1;
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Fixed(d) => d,
            Backoff::Linear { base, step } => step
                .checked_mul(steps)
                .and_then(|grown| base.checked_add(grown))
                .unwrap_or(Duration::MAX),
            Backoff::Exponential { base, factor, max } => exponential(base, factor, max, steps),
        }
    }

    /// The cap on every delay of this backoff, after jitter: `Some(max)` for
    /// [`Exponential`](Backoff::Exponential), `None` for the others.
    ///
    /// ```
    /// use resilience::retry::Backoff;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Backoff::default().cap(), Some(Duration::from_secs(60)));
    /// assert_eq!(Backoff::Fixed(Duration::from_secs(1)).cap(), None);
    /// ```
    pub fn cap(&self) -> Option<Duration> {
        match *self {
            Backoff::Exponential { max, .. } => Some(max),
            Backoff::None | Backoff::Fixed(_) | Backoff::Linear { .. } => None,
        }
    }
}

/// `base × factor^steps`, capped at `max`, computed in nanoseconds and rounded so integer
/// factors give exact results (f64 holds every nanosecond count below 104 days exactly).
fn exponential(base: Duration, factor: f64, max: Duration, steps: u32) -> Duration {
    let exponent = i32::try_from(steps).unwrap_or(i32::MAX);
    let nanos = base.as_nanos() as f64 * factor.powi(exponent);
    let max_nanos = max.as_nanos() as f64;
    // NaN (an invalid factor) goes to the cap rather than to a panic.
    if nanos.is_nan() || nanos >= max_nanos {
        return max;
    }
    if nanos <= 0.0 {
        return Duration::ZERO;
    }
    // Below `max`, which fits a Duration; a u64 of nanoseconds covers 584 years.
    let rounded = nanos.round();
    if rounded >= u64::MAX as f64 {
        return max;
    }
    Duration::from_nanos(rounded as u64).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_retry_numbers_and_odd_factors_stay_in_bounds() {
        let max = Duration::from_secs(60);
        let b = |factor| Backoff::Exponential {
            base: Duration::from_secs(1),
            factor,
            max,
        };
        assert_eq!(b(2.0).delay(u32::MAX), max);
        assert_eq!(b(f64::NAN).delay(2), max);
        assert_eq!(b(f64::INFINITY).delay(2), max);
        assert_eq!(b(-3.0).delay(2), Duration::ZERO);
        assert_eq!(b(1.0).delay(1000), Duration::from_secs(1));
        let linear = Backoff::Linear {
            base: Duration::MAX,
            step: Duration::from_secs(1),
        };
        assert_eq!(linear.delay(3), Duration::MAX);
    }
}
