//! [`RateLimiter`]: the GCRA state, its rate and its clock.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::gcra::{self, Rate};
use super::{RateLimitConfig, RateLimited, RateLimiterSnapshot};
use crate::clock::{duration_nanos, Clock};
use crate::events::Sink;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::ConfigError;

/// At most `limit` calls per `per`, bursts up to `burst`; see the [module](super).
///
/// An admitted call costs one clock read and one compare-and-swap: no lock, no
/// allocation. A new configuration applies from the next call; the state (how much of
/// the burst is used) carries over.
///
/// ```
/// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
/// use std::time::Duration;
///
/// let l = RateLimiter::new("api", RateLimitConfig { limit: 1, per: Duration::from_secs(60), ..Default::default() })?;
/// assert_eq!(l.check(), Ok(Duration::ZERO));
/// assert!(l.check().unwrap_err().retry_after > Duration::from_secs(59));
/// # Ok::<(), resilience::ConfigError>(())
/// ```
pub struct RateLimiter {
    tat: AtomicU64,
    interval: AtomicU64,
    tolerance: AtomicU64,
    max_delay: AtomicU64,
    rejections: AtomicU64,
    /// Bumped by every `apply`: a cluster-scoped site rebuilds its cluster limit when it
    /// changes (never read by `check`).
    generation: AtomicU64,
    clock: Timeline,
    config: Mutex<RateLimitConfig>,
    name: &'static str,
    key: Option<Arc<str>>,
    /// Its registry's event stream (none outside a registry).
    events: Sink,
}

impl core::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("config", &self.config())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter named `name` with its whole burst free, on the system clock; `config` is
    /// validated.
    ///
    /// ```
    /// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
    /// let err = RateLimiter::new("x", RateLimitConfig { burst: Some(0), ..Default::default() }).unwrap_err();
    /// assert_eq!(err.field(), "burst");
    /// ```
    pub fn new(name: impl AsRef<str>, config: RateLimitConfig) -> Result<RateLimiter, ConfigError> {
        config.validate()?;
        Ok(RateLimiter::build(
            crate::names::intern(name.as_ref()),
            None,
            &config,
            crate::clock::system(),
        ))
    }

    /// `config` must have been validated.
    pub(crate) fn build(
        name: &'static str,
        key: Option<Arc<str>>,
        config: &RateLimitConfig,
        clock: Arc<dyn Clock>,
    ) -> RateLimiter {
        let rate = rate_of(config);
        RateLimiter {
            tat: AtomicU64::new(0),
            interval: AtomicU64::new(rate.interval),
            tolerance: AtomicU64::new(rate.tolerance),
            max_delay: AtomicU64::new(rate.max_delay),
            rejections: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            clock: Timeline::of(clock),
            config: Mutex::new(config.clone()),
            name,
            key,
            events: Sink::NONE,
        }
    }

    /// The same limiter, sending its events through `events` (its registry's stream).
    pub(crate) fn with_events(mut self, events: Sink) -> RateLimiter {
        self.events = events;
        self
    }

    /// The same limiter on another clock (a [`ManualClock`](crate::clock::ManualClock)
    /// in tests).
    ///
    /// ```
    /// use resilience::{clock::ManualClock, rate_limit::RateLimiter};
    /// let l = RateLimiter::new("x", Default::default()).unwrap().with_clock(std::sync::Arc::new(ManualClock::new()));
    /// assert_eq!(l.name(), "x");
    /// ```
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> RateLimiter {
        self.clock = Timeline::of(clock);
        // The state was on the old clock's timeline: start again with the burst free.
        self.tat = AtomicU64::new(0);
        self
    }

    /// The limiter's name.
    ///
    /// ```
    /// assert_eq!(resilience::rate_limit::RateLimiter::new("x", Default::default()).unwrap().name(), "x");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its key, for one instance of a rate limit with `key = expr`.
    ///
    /// ```
    /// assert_eq!(resilience::rate_limit::RateLimiter::new("x", Default::default()).unwrap().key(), None);
    /// ```
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The configuration in force (a copy).
    ///
    /// ```
    /// let l = resilience::rate_limit::RateLimiter::new("x", Default::default()).unwrap();
    /// assert_eq!(l.config().limit, 100);
    /// ```
    pub fn config(&self) -> RateLimitConfig {
        self.config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies `config` from the next call.
    ///
    /// ```
    /// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
    /// let l = RateLimiter::new("x", RateLimitConfig { limit: 1, ..Default::default() })?;
    /// assert!(l.check().is_ok());
    /// assert!(l.check().is_err());
    /// l.configure(RateLimitConfig { limit: 1, burst: Some(3), ..Default::default() })?;
    /// assert!(l.check().is_ok());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, config: RateLimitConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.apply(&config);
        Ok(())
    }

    pub(crate) fn apply(&self, config: &RateLimitConfig) {
        let rate = rate_of(config);
        *self.config.lock().unwrap_or_else(PoisonError::into_inner) = config.clone();
        self.interval.store(rate.interval, Ordering::Relaxed);
        self.tolerance.store(rate.tolerance, Ordering::Relaxed);
        self.max_delay.store(rate.max_delay, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// How many configurations were applied since it was built: a cluster-scoped site's
    /// cue to read the configuration again.
    #[cfg(feature = "redis")]
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    #[inline]
    fn rate(&self) -> Rate {
        Rate {
            interval: self.interval.load(Ordering::Relaxed),
            tolerance: self.tolerance.load(Ordering::Relaxed),
            max_delay: self.max_delay.load(Ordering::Relaxed),
        }
    }

    #[inline]
    fn now(&self) -> u64 {
        match &self.clock {
            Timeline::System => crate::clock::counter_nanos(),
            Timeline::Given(clock) => duration_nanos(clock.now()),
        }
    }

    /// Admits a call: `Ok(delay)` to run it after `delay` (zero: at once; its place is
    /// reserved either way), or `Err(RateLimited)` when it would wait longer than
    /// `max_delay`.
    ///
    /// ```
    /// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
    /// use std::time::Duration;
    /// let l = RateLimiter::new("x", RateLimitConfig {
    ///     limit: 10, per: Duration::from_secs(1), burst: Some(1), max_delay: Duration::from_secs(1), ..Default::default()
    /// })?;
    /// assert_eq!(l.check(), Ok(Duration::ZERO));
    /// let delay = l.check().unwrap();
    /// assert!(delay > Duration::from_millis(90) && delay <= Duration::from_millis(100));
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    #[inline]
    pub fn check(&self) -> Result<Duration, RateLimited> {
        let rate = self.rate();
        match gcra::admit(&self.tat, self.now(), rate) {
            Ok(0) => Ok(Duration::ZERO),
            Ok(delay) => Ok(self.delayed(delay)),
            Err(wait) => Err(self.refuse(wait.saturating_sub(rate.max_delay))),
        }
    }

    #[cold]
    fn delayed(&self, delay: u64) -> Duration {
        let delay = Duration::from_nanos(delay);
        super::events::delayed(self.name, self.key.as_deref(), delay);
        delay
    }

    #[cold]
    #[inline(never)]
    fn refuse(&self, wait: u64) -> RateLimited {
        self.rejections.fetch_add(1, Ordering::Relaxed);
        let retry_after = Duration::from_nanos(wait);
        super::events::refused(&self.events, self.name, self.key.as_deref(), retry_after);
        RateLimited {
            name: self.name,
            key: self.key.clone(),
            retry_after,
        }
    }

    /// A refusal the cluster's limit decided (`scope = cluster`): counted and reported
    /// as this limiter's own.
    #[cfg(feature = "redis")]
    #[cold]
    pub(crate) fn refused_by_cluster(&self, retry_after: Duration) -> RateLimited {
        self.refuse(duration_nanos(retry_after))
    }

    /// The limiter's state and configuration.
    ///
    /// ```
    /// let l = resilience::rate_limit::RateLimiter::new("x", Default::default()).unwrap();
    /// l.check().unwrap();
    /// assert_eq!(l.snapshot().available, 99);
    /// ```
    pub fn snapshot(&self) -> RateLimiterSnapshot {
        RateLimiterSnapshot {
            name: self.name.to_owned(),
            key: self.key.as_deref().map(str::to_owned),
            available: gcra::available(self.tat.load(Ordering::Acquire), self.now(), self.rate()),
            rejections: self.rejections.load(Ordering::Relaxed),
            config: self.config(),
        }
    }
}

/// Where a limiter reads its time. The state only compares readings of one timeline, so
/// the system clock is read from the CPU's counter, which costs a third of the OS clock.
#[derive(Debug)]
enum Timeline {
    System,
    Given(Arc<dyn Clock>),
}

impl Timeline {
    fn of(clock: Arc<dyn Clock>) -> Timeline {
        if crate::clock::is_system(&clock) {
            Timeline::System
        } else {
            Timeline::Given(clock)
        }
    }
}

fn rate_of(config: &RateLimitConfig) -> Rate {
    let interval = duration_nanos(config.interval()).max(1);
    Rate {
        interval,
        tolerance: interval.saturating_mul(u64::from(config.burst())),
        max_delay: duration_nanos(config.max_delay),
    }
}

impl crate::keyed::Instance for RateLimiter {
    type Config = RateLimitConfig;

    fn make(
        name: &'static str,
        key: Arc<str>,
        config: &RateLimitConfig,
        clock: &Arc<dyn Clock>,
    ) -> RateLimiter {
        RateLimiter::build(name, Some(key), config, clock.clone())
    }

    fn reconfigure(&self, config: &RateLimitConfig) {
        self.apply(config);
    }

    /// Always, once nobody holds it: a limiter has no call in flight. Evicting one that
    /// has not recovered its full burst forgets what it used, so that key, seen again,
    /// starts with a full burst; the bound on memory wins over that, as the evicted key
    /// is the least recently used of `max_keys`.
    fn is_idle(&self) -> bool {
        true
    }

    fn with_events(self, events: Sink) -> RateLimiter {
        RateLimiter::with_events(self, events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn retry_after_is_the_interval_and_delays_are_reported() {
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(100));
        let l = RateLimiter::new(
            "tests.rate",
            RateLimitConfig {
                limit: 5,
                per: Duration::from_secs(1),
                burst: Some(3),
                ..Default::default()
            },
        )
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
        for _ in 0..3 {
            assert_eq!(l.check(), Ok(Duration::ZERO));
        }
        let limited = l.check().unwrap_err();
        assert_eq!(limited.retry_after, Duration::from_millis(200));
        assert_eq!(l.snapshot().rejections, 1);
        assert_eq!(l.snapshot().available, 0);
        clock.advance(Duration::from_millis(200));
        assert_eq!(l.check(), Ok(Duration::ZERO));
        clock.advance(Duration::from_secs(10));
        assert_eq!(l.snapshot().available, 3);
    }
}
