//! [`RateLimiter`]: the GCRA state, its rate and its clock.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::gaps::Gaps;
use super::gcra::{self, Rate};
use super::place::Place;
use super::{RateLimitConfig, RateLimited, RateLimiterSnapshot};
use crate::clock::{duration_nanos, Clock};
use crate::events::Sink;
use crate::refusals::RefusalWarn;
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
    /// `per` in nanoseconds: the longest wait a refusal ever says, and one period of a
    /// clock set back.
    period: AtomicU64,
    /// Places given back before later ones (cancelled delayed calls).
    gaps: Gaps,
    rejections: AtomicU64,
    /// At most one WARN a second for its refusals.
    warn: RefusalWarn,
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
            period: AtomicU64::new(duration_nanos(config.per)),
            gaps: Gaps::new(),
            rejections: AtomicU64::new(0),
            warn: RefusalWarn::new(),
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
        self.gaps.clear();
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
        self.period
            .store(duration_nanos(config.per), Ordering::Relaxed);
        // Gaps are places of the old rate.
        self.gaps.clear();
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

    fn period(&self) -> u64 {
        self.period.load(Ordering::Relaxed)
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
    /// `max_delay`. A place taken by `check` is never given back; an async caller that
    /// may be dropped while it waits uses [`reserve`](Self::reserve) and
    /// [`wait`](Self::wait) instead.
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
        let now = self.now();
        match gcra::admit(&self.tat, now, rate, || self.period()) {
            // HOT PATH: no place to hand out, no division.
            Ok(reserved) if reserved.delay == 0 => Ok(Duration::ZERO),
            Ok(reserved) => Ok(self.delayed(reserved, now, rate).delay()),
            Err(wait) => self.over(wait, now, rate).map(|place| place.delay()),
        }
    }

    /// Admits a call as [`check`](Self::check) does, answering with its [`Place`]: to
    /// run now, or after [`Place::delay`]. A delayed place that will not be used (the
    /// call was cancelled while it waited) can be given back with
    /// [`give_back`](Self::give_back), or by dropping the [`wait`](Self::wait) for it:
    /// the next delayed call takes it.
    ///
    /// HOT PATH: an admitted call costs one clock read and one CAS, as `check`.
    ///
    /// ```
    /// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
    /// use std::time::Duration;
    /// let l = RateLimiter::new("x", RateLimitConfig {
    ///     limit: 10, per: Duration::from_secs(1), burst: Some(1), max_delay: Duration::from_secs(2), ..Default::default()
    /// })?;
    /// assert!(l.reserve()?.is_now());
    /// let first = l.reserve()?;
    /// let second = l.reserve()?;
    /// assert!(second.delay() > first.delay());
    /// l.give_back(second); // cancelled: the next delayed call takes its place
    /// assert!(l.reserve()?.delay() <= second.delay());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn reserve(&self) -> Result<Place, RateLimited> {
        let rate = self.rate();
        let now = self.now();
        match gcra::admit(&self.tat, now, rate, || self.period()) {
            Ok(reserved) if reserved.delay == 0 => Ok(Place::NOW),
            Ok(reserved) => Ok(self.delayed(reserved, now, rate)),
            Err(wait) => self.over(wait, now, rate),
        }
    }

    /// Gives back a delayed `place` that will not be used, if its time has not come: the
    /// next delayed call takes it. A place to run now, or whose time has passed, is spent.
    ///
    /// ```
    /// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
    /// use std::time::Duration;
    /// let l = RateLimiter::new("x", RateLimitConfig {
    ///     limit: 1, per: Duration::from_secs(1), max_delay: Duration::from_secs(1), ..Default::default()
    /// })?;
    /// l.reserve()?;
    /// let place = l.reserve()?;
    /// assert!(l.reserve().is_err());
    /// l.give_back(place);
    /// assert!(l.reserve().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn give_back(&self, place: Place) {
        let place = place.0;
        if place.delay == 0 || self.now() >= place.at {
            return;
        }
        self.gaps.give_back(&self.tat, place);
    }

    /// A delayed admission: the earliest gap, if one was given back, else `place`.
    #[cold]
    #[inline(never)]
    fn delayed(&self, reserved: gcra::Reserved, now: u64, rate: Rate) -> Place {
        let place = gcra::Place::at(reserved, now, rate);
        let place = match self.take_gap(now, rate) {
            Some(gap) => {
                // The place reserved is given back: its time is later than the gap's.
                self.gaps.give_back(&self.tat, place);
                gap
            }
            None => place,
        };
        let delay = Duration::from_nanos(place.delay);
        super::events::delayed(self.name, self.key.as_deref(), delay);
        Place(place)
    }

    /// Over the rate: a gap within `max_delay`, if one was given back, else refused.
    #[cold]
    #[inline(never)]
    fn over(&self, wait: u64, now: u64, rate: Rate) -> Result<Place, RateLimited> {
        match self.take_gap(now, rate) {
            Some(gap) => {
                let delay = Duration::from_nanos(gap.delay);
                super::events::delayed(self.name, self.key.as_deref(), delay);
                Ok(Place(gap))
            }
            None => Err(self.refuse(wait.saturating_sub(rate.max_delay), now)),
        }
    }

    fn take_gap(&self, now: u64, rate: Rate) -> Option<gcra::Place> {
        if !self.gaps.any() {
            return None;
        }
        self.gaps.take(now, rate.max_delay)
    }

    #[cold]
    #[inline(never)]
    fn refuse(&self, wait: u64, now: u64) -> RateLimited {
        let total = self.rejections.fetch_add(1, Ordering::Relaxed) + 1;
        // Never longer than one period: past the end of the clock's range, or a clock
        // set back, the honest wait is unknown.
        let retry_after = Duration::from_nanos(wait.min(self.period()));
        let warn = self.warn.due_any_clock(Duration::from_nanos(now), || total);
        super::events::refused(
            &self.events,
            self.name,
            self.key.as_deref(),
            retry_after,
            warn,
        );
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
        self.refuse(duration_nanos(retry_after), self.now())
    }

    /// How long until its burst is whole again (zero: it is).
    pub(super) fn until_full(&self) -> Duration {
        Duration::from_nanos(self.tat.load(Ordering::Acquire).saturating_sub(self.now()))
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
    Rate::new(
        duration_nanos(config.interval()),
        config.burst(),
        duration_nanos(config.max_delay),
    )
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

    fn ten_a_second(clock: &ManualClock) -> RateLimiter {
        RateLimiter::new(
            "tests.rate.clock",
            RateLimitConfig {
                limit: 10,
                per: Duration::from_secs(1),
                burst: Some(1),
                ..Default::default()
            },
        )
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
    }

    #[test]
    fn a_clock_set_back_never_makes_a_wait_longer_than_one_period() {
        // Set back from 1000 s to 10 s: every call was refused for 16 min 30 s before.
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(1000));
        let l = ten_a_second(&clock);
        for _ in 0..10 {
            let _ = l.check();
            clock.advance(Duration::from_millis(100));
        }
        clock.set(Duration::from_secs(10));
        let limited = l.check().unwrap_err();
        assert!(limited.retry_after <= Duration::from_secs(1), "{limited:?}");
        clock.advance(limited.retry_after);
        assert_eq!(l.check(), Ok(Duration::ZERO));
        // From there on, the rate as configured.
        assert!(l.check().is_err());
        clock.advance(Duration::from_millis(100));
        assert_eq!(l.check(), Ok(Duration::ZERO));
    }

    #[test]
    fn near_the_end_of_the_clock_s_range_calls_are_refused_not_admitted() {
        let clock = ManualClock::new();
        clock.set(Duration::from_nanos(u64::MAX - 1_000_000));
        let l = RateLimiter::new(
            "tests.rate.end",
            RateLimitConfig {
                limit: 10,
                per: Duration::from_secs(1),
                ..Default::default()
            },
        )
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
        let admitted = (0..10).filter(|_| l.check().is_ok()).count();
        assert_eq!(admitted, 0, "all 10 were admitted before");
        let limited = l.check().unwrap_err();
        assert!(limited.retry_after <= Duration::from_secs(1), "{limited:?}");
        // The clock never wraps to the start either.
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
        assert!(l.check().is_err());
    }
}
