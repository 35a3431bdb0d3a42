//! [`Place`]: an admitted call's place in the rate.

use std::time::Duration;

use super::gcra;

/// An admitted call's place in the rate: now, or after [`delay`](Place::delay).
/// Returned by [`RateLimiter::reserve`](super::RateLimiter::reserve); given back with
/// [`RateLimiter::give_back`](super::RateLimiter::give_back) or by dropping a
/// [`Wait`](super::Wait) for it.
///
/// ```
/// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
/// let l = RateLimiter::new("x", RateLimitConfig::default())?;
/// let place = l.reserve()?;
/// assert!(place.is_now());
/// assert_eq!(place.delay(), std::time::Duration::ZERO);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place(pub(super) gcra::Place);

impl Place {
    /// A place to run now (nothing to give back).
    pub(super) const NOW: Place = Place(gcra::Place {
        delay: 0,
        at: 0,
        tat: 0,
        interval: 0,
    });

    /// How long the call waits before it runs (zero: it runs now).
    #[inline]
    pub fn delay(&self) -> Duration {
        Duration::from_nanos(self.0.delay)
    }

    /// Whether the call runs now, without waiting.
    #[inline]
    pub fn is_now(&self) -> bool {
        self.0.delay == 0
    }
}
