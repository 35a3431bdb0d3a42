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
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::ConfigError;

/// `limit` calls per `per` at the long-run rate, up to `burst` at once after a quiet
/// spell (so a window of `per` just after one may admit `burst + limit`); see the
/// [module](super).
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
    /// Its refusals' counter (feature `metrics`), labelled with its name and key.
    rejected: crate::metrics::InstanceCounter,
    /// Bumped by every `apply`: a cluster-scoped site rebuilds its cluster limit when it
    /// changes (never read by `check`).
    generation: AtomicU64,
    /// The configuration in force says `scope = cluster`: a `RateLimitLayer` admits
    /// through the cluster (never read by `check`).
    cluster: AtomicBool,
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
            rejected: crate::metrics::rate_limited(name, key.as_ref()),
            generation: AtomicU64::new(0),
            cluster: AtomicBool::new(config.scope == crate::Scope::Cluster),
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
        self.cluster
            .store(config.scope == crate::Scope::Cluster, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Whether the configuration in force says `scope = cluster` (one load).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    #[inline]
    pub(crate) fn is_cluster(&self) -> bool {
        self.cluster.load(Ordering::Relaxed)
    }

    /// How many configurations were applied since it was built: a cluster-scoped site's
    /// cue to read the configuration again.
    #[cfg(feature = "redis")]
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The rate a call is admitted at: with its wait bounded by the deadline of a
    /// timeout around the call (`crate::deadline`), so a call that would wait past it is
    /// refused at once, its place not taken. The deadline is read only when the limiter
    /// may delay calls (`max_delay` above zero).
    #[inline]
    fn admitting(&self) -> Rate {
        let mut rate = self.rate();
        if rate.max_delay != 0 {
            rate.max_delay = crate::deadline::clip_nanos(rate.max_delay);
        }
        rate
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
    /// `max_delay`, or longer than what is left before the deadline of a `#[timeout]` or
    /// `TimeoutLayer` around the call ([`deadline`](crate::deadline)). A place taken by `check` is never given back; an async caller that
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
        // The clock first: the rate's loads after its call stay in registers (loaded
        // before it, they were spilled to the stack around it and read back).
        let now = self.now();
        let rate = self.admitting();
        match gcra::admit(&self.tat, now, rate, rate.interval, || self.period()) {
            // HOT PATH: no place to hand out, no division.
            Ok(reserved) if reserved.delay == 0 => Ok(Duration::ZERO),
            Ok(reserved) => Ok(self.delayed(reserved, now, rate, 1).delay()),
            Err(wait) => self.over(wait, now, rate, 1).map(|place| place.delay()),
        }
    }

    /// Admits a call that takes `cost` units of the limit (tokens of a tokens-per-minute
    /// quota, the weight of a batch), answering as [`check`](Self::check) does: `limit`
    /// and `burst` count units, and a call of cost `n` waits for `n` of them.
    ///
    /// A cost above the burst can never fit: it is refused at once with a
    /// [`RateLimited`] whose [`over_burst`](RateLimited::over_burst) says the burst, which
    /// is not retryable and has no `retry_after`. A cost of 0 is admitted and takes
    /// nothing.
    ///
    /// ```
    /// use resilience::{clock::ManualClock, rate_limit::RateLimiter, MarcusError, RateLimitConfig};
    /// use std::{sync::Arc, time::Duration};
    ///
    /// // 100 tokens a second, all of them at once after a quiet second.
    /// let clock = ManualClock::new();
    /// let l = RateLimiter::new("docs.check_n", RateLimitConfig { limit: 100, per: Duration::from_secs(1), ..Default::default() })?
    ///     .with_clock(Arc::new(clock.clone()));
    /// assert_eq!(l.check_n(60), Ok(Duration::ZERO));
    /// let limited = l.check_n(50).unwrap_err();        // 10 tokens missing
    /// assert_eq!(limited.retry_after, Duration::from_millis(100));
    /// clock.advance(limited.retry_after);
    /// assert_eq!(l.check_n(50), Ok(Duration::ZERO));
    ///
    /// let never = l.check_n(150).unwrap_err();         // above the burst of 100
    /// assert_eq!(never.over_burst, Some(100));
    /// assert!(!never.retryable() && never.retry_after().is_none());
    /// assert_eq!(l.check_n(0), Ok(Duration::ZERO));   // free
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    #[inline]
    pub fn check_n(&self, cost: u32) -> Result<Duration, RateLimited> {
        self.reserve_n(cost).map(|place| place.delay())
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
        // The clock first, as in `check`.
        let now = self.now();
        let rate = self.admitting();
        match gcra::admit(&self.tat, now, rate, rate.interval, || self.period()) {
            Ok(reserved) if reserved.delay == 0 => Ok(Place::NOW),
            Ok(reserved) => Ok(self.delayed(reserved, now, rate, 1)),
            Err(wait) => self.over(wait, now, rate, 1),
        }
    }

    /// Reserves the place of a call that takes `cost` units of the limit, as
    /// [`check_n`](Self::check_n) admits it, answering with its [`Place`] as
    /// [`reserve`](Self::reserve) does; a delayed place given back returns its `cost`
    /// units.
    ///
    /// ```
    /// use resilience::{rate_limit::RateLimiter, RateLimitConfig};
    /// use std::time::Duration;
    /// let l = RateLimiter::new("docs.reserve_n", RateLimitConfig {
    ///     limit: 100, per: Duration::from_secs(1), max_delay: Duration::from_secs(1), ..Default::default()
    /// })?;
    /// assert!(l.reserve_n(60)?.is_now());
    /// let place = l.reserve_n(50)?;                    // waits for the 10 units missing
    /// assert!(place.delay() > Duration::from_millis(90) && place.delay() <= Duration::from_millis(100));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn reserve_n(&self, cost: u32) -> Result<Place, RateLimited> {
        let rate = self.admitting();
        let increment = match rate.interval.checked_mul(u64::from(cost)) {
            Some(0) => return Ok(Place::NOW),
            Some(increment) if increment <= rate.tolerance => increment,
            _ => return Err(self.over_burst(cost)),
        };
        let now = self.now();
        match gcra::admit(&self.tat, now, rate, increment, || self.period()) {
            Ok(reserved) if reserved.delay == 0 => Ok(Place::NOW),
            Ok(reserved) => Ok(self.delayed(reserved, now, rate, cost)),
            Err(wait) => self.over(wait, now, rate, cost),
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

    /// A delayed admission of a call of `cost`: the earliest gap of its cost, if one
    /// was given back, else the place reserved.
    #[cold]
    #[inline(never)]
    fn delayed(&self, reserved: gcra::Reserved, now: u64, rate: Rate, cost: u32) -> Place {
        let increment = rate.interval * u64::from(cost);
        let place = gcra::Place::at(reserved, now, increment);
        let place = match self.take_gap(now, rate, increment) {
            Some(gap) => {
                // The place reserved is given back: its time is later than the gap's.
                self.gaps.give_back(&self.tat, place);
                gap
            }
            None => place,
        };
        let delay = Duration::from_nanos(place.delay);
        super::events::delayed(self.name, self.key.as_deref(), delay, cost);
        Place(place)
    }

    /// Over the rate: a gap within `max_delay`, if one of the call's cost was given
    /// back, else refused.
    #[cold]
    #[inline(never)]
    fn over(&self, wait: u64, now: u64, rate: Rate, cost: u32) -> Result<Place, RateLimited> {
        match self.take_gap(now, rate, rate.interval * u64::from(cost)) {
            Some(gap) => {
                let delay = Duration::from_nanos(gap.delay);
                super::events::delayed(self.name, self.key.as_deref(), delay, cost);
                Ok(Place(gap))
            }
            None => Err(self.refuse(wait.saturating_sub(rate.max_delay), now, cost)),
        }
    }

    fn take_gap(&self, now: u64, rate: Rate, increment: u64) -> Option<gcra::Place> {
        if !self.gaps.any() {
            return None;
        }
        self.gaps.take(now, rate.max_delay, increment)
    }

    #[cold]
    #[inline(never)]
    fn refuse(&self, wait: u64, now: u64, cost: u32) -> RateLimited {
        // Never longer than one period: past the end of the clock's range, or a clock
        // set back, the honest wait is unknown. (A weighted call within the burst waits
        // at most a period too: the burst refills in one.)
        let retry_after = Duration::from_nanos(wait.min(self.period()));
        self.refused(
            RateLimited {
                name: self.name,
                key: self.key.clone(),
                retry_after,
                cost,
                over_burst: None,
            },
            now,
        )
    }

    /// Whether a call of `cost` takes anything (`false` for 0), or its refusal when the
    /// cost is above the burst; for the cluster's sites, which admit elsewhere.
    #[cfg(feature = "redis")]
    pub(crate) fn weigh(&self, cost: u32) -> Result<bool, RateLimited> {
        let rate = self.rate();
        match rate.interval.checked_mul(u64::from(cost)) {
            Some(0) => Ok(false),
            Some(increment) if increment <= rate.tolerance => Ok(true),
            _ => Err(self.over_burst(cost)),
        }
    }

    /// A call whose cost is above the burst: no wait admits it.
    #[cold]
    #[inline(never)]
    fn over_burst(&self, cost: u32) -> RateLimited {
        let burst = self.config().burst();
        self.refused(
            RateLimited {
                name: self.name,
                key: self.key.clone(),
                retry_after: Duration::ZERO,
                cost,
                over_burst: Some(burst),
            },
            self.now(),
        )
    }

    /// Counts `limited` and reports it (a WARN at most once a second).
    fn refused(&self, limited: RateLimited, now: u64) -> RateLimited {
        let total = self.rejections.fetch_add(1, Ordering::Relaxed) + 1;
        let warn = self.warn.due_any_clock(Duration::from_nanos(now), || total);
        super::events::refused(&self.events, &self.rejected, &limited, warn);
        limited
    }

    /// A refusal the cluster's limit decided (`scope = cluster`): counted and reported
    /// as this limiter's own.
    #[cfg(feature = "redis")]
    #[cold]
    pub(crate) fn refused_by_cluster(&self, retry_after: Duration, cost: u32) -> RateLimited {
        self.refuse(duration_nanos(retry_after), self.now(), cost)
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

    fn hundred_tokens(clock: &ManualClock, max_delay: Duration) -> RateLimiter {
        RateLimiter::new(
            "tests.rate.cost",
            RateLimitConfig {
                limit: 100,
                per: Duration::from_secs(1),
                max_delay,
                ..Default::default()
            },
        )
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
    }

    #[test]
    fn sixty_then_fifty_of_a_hundred_waits_exactly_for_the_ten_units_missing() {
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(100));
        let l = hundred_tokens(&clock, Duration::ZERO);
        assert_eq!(l.check_n(60), Ok(Duration::ZERO));
        let limited = l.check_n(50).unwrap_err();
        assert_eq!(limited.retry_after, Duration::from_millis(100));
        assert_eq!((limited.cost, limited.over_burst), (50, None));
        // Delayed instead, when `max_delay` allows: by the same 100 ms.
        let l = hundred_tokens(&clock, Duration::from_secs(1));
        assert_eq!(l.check_n(60), Ok(Duration::ZERO));
        assert_eq!(l.check_n(50), Ok(Duration::from_millis(100)));
        assert_eq!(l.snapshot().rejections, 0);
    }

    #[test]
    fn a_cost_above_the_burst_is_refused_at_once_and_costs_nothing() {
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(100));
        let l = hundred_tokens(&clock, Duration::from_secs(10));
        let never = l.check_n(101).unwrap_err();
        assert_eq!((never.cost, never.over_burst), (101, Some(100)));
        assert_eq!(never.retry_after, Duration::ZERO);
        assert_eq!(l.check_n(u32::MAX).unwrap_err().over_burst, Some(100));
        // Refused without touching the state: the whole burst is still there.
        assert_eq!(l.snapshot().available, 100);
        assert_eq!(l.snapshot().rejections, 2);
        assert_eq!(l.check_n(100), Ok(Duration::ZERO));
        // A cost of 0 takes nothing, even with nothing left.
        assert_eq!(l.check_n(0), Ok(Duration::ZERO));
        assert_eq!(l.snapshot().available, 0);
    }

    #[test]
    fn a_weighted_place_given_back_returns_its_units_and_gaps_keep_their_cost() {
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(100));
        let l = hundred_tokens(&clock, Duration::from_secs(2));
        assert!(l.reserve_n(100).unwrap().is_now());
        let first = l.reserve_n(30).unwrap();
        let second = l.reserve_n(10).unwrap();
        assert_eq!(
            (first.delay(), second.delay()),
            (Duration::from_millis(300), Duration::from_millis(400))
        );
        // The first, given back before a later one, is a gap of 30 units: a call of 10
        // does not take it (it would lose 20), one of 30 does.
        l.give_back(first);
        assert_eq!(l.reserve_n(10).unwrap().delay(), Duration::from_millis(500));
        assert_eq!(l.reserve_n(30).unwrap().delay(), Duration::from_millis(300));
    }
}
