//! The [`Wait`] for a call's place in the rate: an async call delayed to fit the rate
//! waits for its place, and gives it back if it is dropped first, so a cancelled call
//! never keeps a place that a later call could have had.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::gcra;
use super::machine::RateLimiter;
use super::place::Place;
use crate::clock::sleep::{sleep, Sleep};

impl RateLimiter {
    /// Waits out `place`'s delay (at once for a place to run now); dropped before the
    /// delay has passed, it gives the place back.
    ///
    /// ```
    /// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
    /// let l = RateLimiter::new("x", RateLimitConfig {
    ///     limit: 10, per: Duration::from_secs(1), burst: Some(1), max_delay: Duration::from_secs(2), ..Default::default()
    /// })?;
    /// l.wait(l.reserve()?).await;            // at once
    /// let place = l.reserve()?;
    /// let delayed = l.wait(place);
    /// drop(delayed);                          // cancelled while waiting: given back
    /// assert!(l.reserve()?.delay() <= place.delay()); // the place given back
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn wait(&self, place: Place) -> Wait<&RateLimiter> {
        Wait::new(self, place)
    }
}

/// The future of [`RateLimiter::wait`]: ready once the place's delay has passed.
/// Dropped before that, it gives the place back. `L` is how it holds the limiter (a
/// reference, an `Arc`).
///
/// ```
/// use resilience::{rate_limit::{RateLimiter, Wait}, RateLimitConfig};
/// use std::sync::Arc;
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// let l = Arc::new(RateLimiter::new("x", RateLimitConfig::default())?);
/// let place = l.reserve()?;
/// Wait::new(l.clone(), place).await; // owns its limiter: can be kept in a 'static future
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[must_use = "a place is waited for only when the future is awaited"]
pub struct Wait<L: Deref<Target = RateLimiter>> {
    limiter: L,
    /// The place, until its delay has passed.
    place: Option<gcra::Place>,
    sleep: Sleep,
}

impl<L: Deref<Target = RateLimiter>> Wait<L> {
    /// The wait for `place`, a place of `limiter`.
    pub fn new(limiter: L, place: Place) -> Wait<L> {
        Wait {
            limiter,
            place: Some(place.0),
            sleep: sleep(place.delay()),
        }
    }
}

// Nothing in it is pinned: the limiter is only read, and `Sleep` is `Unpin` (its timer
// is boxed).
impl<L: Deref<Target = RateLimiter>> Unpin for Wait<L> {}

impl<L: Deref<Target = RateLimiter>> Future for Wait<L> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        core::task::ready!(Pin::new(&mut this.sleep).poll(cx));
        this.place = None;
        Poll::Ready(())
    }
}

impl<L: Deref<Target = RateLimiter>> Drop for Wait<L> {
    fn drop(&mut self) {
        if let Some(place) = self.place.take() {
            self.limiter.give_back(Place(place));
        }
    }
}

impl<L: Deref<Target = RateLimiter>> core::fmt::Debug for Wait<L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Wait")
            .field("limiter", &self.limiter.name())
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::RateLimitConfig;

    fn limiter() -> RateLimiter {
        RateLimiter::new(
            "tests.rate.wait",
            RateLimitConfig {
                limit: 10,
                per: Duration::from_secs(1),
                burst: Some(1),
                max_delay: Duration::from_secs(2),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn fifteen_cancelled_waits_give_every_place_back() {
        let l = Arc::new(limiter());
        assert!(l.reserve().unwrap().is_now());
        let waits: Vec<_> = (0..15)
            .map(|_| Wait::new(l.clone(), l.reserve().unwrap()))
            .collect();
        tokio::time::advance(Duration::from_millis(1)).await;
        drop(waits);
        let next = l.reserve().unwrap();
        assert!(next.delay() <= Duration::from_millis(100), "{next:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_that_ran_its_course_keeps_its_place() {
        let l = limiter();
        assert!(l.reserve().unwrap().is_now());
        let place = l.reserve().unwrap();
        assert_eq!(place.delay(), Duration::from_millis(100));
        l.wait(place).await;
        // The place was used: the next one is after it.
        assert_eq!(l.reserve().unwrap().delay(), Duration::from_millis(100));
    }
}
