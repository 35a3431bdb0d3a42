//! [`AdaptiveLimiter`]: the places (`places.rs`), the window of round-trip times
//! (`window.rs`) and the algorithm (`algorithm/`) of one adaptive limit, on one clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::algorithm::{Bounds, Estimator, Sample};
use super::places::{Decision, Entry, Notify, Places};
use super::window::Window;
use super::{AdaptiveLimitConfig, AdaptiveLimitSnapshot, Overloaded, Priority};
use crate::clock::{duration_nanos, Clock};
use crate::events::Sink;
use crate::metrics::{Durations, Outcome};
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::ConfigError;

/// The shortest wait an [`Overloaded`] advises, so a retry loop never spins.
const MIN_RETRY_AFTER: Duration = Duration::from_micros(100);

/// A limit on the calls of one name at once that adapts to their latency and outcomes;
/// see the [module](super).
///
/// An admitted call costs a load of the limit and a compare-and-swap on the count (as a
/// bulkhead's), and when it ends a subtraction; a timed call (every call at low rates,
/// about 32 a window at high ones) adds two readings of the clock and two additions.
/// No lock, no allocation: the algorithm runs once a window, on the call that closes it.
///
/// ```
/// use resilience::adaptive_limit::AdaptiveLimiter;
/// use resilience::{AdaptiveLimitConfig, Priority};
///
/// let l = AdaptiveLimiter::new("search", AdaptiveLimitConfig { initial_limit: 2, ..Default::default() })?;
/// let (a, b) = (l.try_acquire().unwrap(), l.try_acquire().unwrap());
/// assert_eq!((l.limit(), l.in_flight()), (2, 2));
/// let refused = l.acquire_blocking(Priority::Normal).unwrap_err();
/// assert_eq!(refused.limit, 2);
/// a.succeeded();
/// drop(b); // a call dropped without an outcome gives its place back, unmeasured
/// assert_eq!(l.in_flight(), 0);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
pub struct AdaptiveLimiter {
    places: Places,
    window: Window,
    state: Mutex<State>,
    max_wait: AtomicU64,
    /// The last window's mean round-trip time (0 before one): the next window's length
    /// and the refusals' `retry_after`.
    rtt: AtomicU64,
    rejections: AtomicU64,
    refusals: super::events::Refusals,
    clock: Timeline,
    name: &'static str,
    key: Option<Arc<str>>,
    /// Its registry's event stream (none outside a registry).
    events: Sink,
    /// Its call duration histogram (feature `metrics`; nothing without it).
    durations: Durations,
    /// Its gauges and refusal counters (feature `metrics`), labelled with its name and key.
    metrics: super::metrics::LimitMetrics,
}

/// What the call that closes a window updates, under the lock.
struct State {
    estimator: Estimator,
    config: AdaptiveLimitConfig,
    window_started: u64,
    min_rtt: Option<u64>,
    events: super::events::LimitEvents,
    priority_warned: bool,
}

impl core::fmt::Debug for AdaptiveLimiter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdaptiveLimiter")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("places", &self.places)
            .finish_non_exhaustive()
    }
}

impl AdaptiveLimiter {
    /// A limiter named `name` at its initial limit, on the system clock; `config` is
    /// validated.
    ///
    /// ```
    /// use resilience::{adaptive_limit::AdaptiveLimiter, AdaptiveLimitConfig};
    /// let err = AdaptiveLimiter::new("x", AdaptiveLimitConfig { min_limit: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.field(), "min_limit");
    /// ```
    pub fn new(
        name: impl AsRef<str>,
        config: AdaptiveLimitConfig,
    ) -> Result<AdaptiveLimiter, ConfigError> {
        config.validate()?;
        Ok(AdaptiveLimiter::build(
            crate::names::intern(name.as_ref()),
            None,
            config,
            crate::clock::system(),
        ))
    }

    /// `config` must have been validated.
    pub(crate) fn build(
        name: &'static str,
        key: Option<Arc<str>>,
        config: AdaptiveLimitConfig,
        clock: Arc<dyn Clock>,
    ) -> AdaptiveLimiter {
        let bounds = bounds_of(&config);
        // A seed per name: the probes of two limiters are not in step.
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let estimator = Estimator::new(
            config.algorithm,
            config.initial_limit,
            bounds,
            config.backoff_ratio,
            seed,
        );
        let limit = estimator.limit() as u32;
        AdaptiveLimiter {
            places: Places::new(limit),
            window: Window::default(),
            max_wait: AtomicU64::new(duration_nanos(config.max_wait)),
            rtt: AtomicU64::new(0),
            rejections: AtomicU64::new(0),
            refusals: Default::default(),
            state: Mutex::new(State {
                estimator,
                config,
                window_started: 0,
                min_rtt: None,
                events: super::events::LimitEvents::new(limit),
                priority_warned: false,
            }),
            clock: Timeline::of(clock),
            metrics: super::metrics::LimitMetrics::new(name, key.as_ref()),
            name,
            key,
            events: Sink::NONE,
            durations: Durations::new("adaptive_limit", name),
        }
    }

    /// The same limiter, sending its events through `events` (its registry's stream).
    pub(crate) fn with_events(mut self, events: Sink) -> AdaptiveLimiter {
        self.events = events;
        self
    }

    /// The same limiter on another clock (a [`ManualClock`](crate::clock::ManualClock) in
    /// tests); its measurements start again.
    ///
    /// ```
    /// use resilience::{adaptive_limit::AdaptiveLimiter, clock::ManualClock};
    /// let l = AdaptiveLimiter::new("x", Default::default())?.with_clock(std::sync::Arc::new(ManualClock::new()));
    /// assert_eq!(l.name(), "x");
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> AdaptiveLimiter {
        let config = self.config();
        AdaptiveLimiter::build(self.name, self.key.clone(), config, clock)
    }

    /// The limiter's name.
    ///
    /// ```
    /// assert_eq!(resilience::adaptive_limit::AdaptiveLimiter::new("x", Default::default()).unwrap().name(), "x");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The calls allowed at once now.
    ///
    /// ```
    /// let l = resilience::adaptive_limit::AdaptiveLimiter::new("x", Default::default()).unwrap();
    /// assert_eq!(l.limit(), 20);
    /// ```
    pub fn limit(&self) -> u32 {
        self.places.limit()
    }

    /// The calls running now.
    ///
    /// ```
    /// let l = resilience::adaptive_limit::AdaptiveLimiter::new("x", Default::default()).unwrap();
    /// let _p = l.try_acquire();
    /// assert_eq!(l.in_flight(), 1);
    /// ```
    pub fn in_flight(&self) -> u32 {
        self.places.in_flight()
    }

    /// The configuration in force (a copy).
    ///
    /// ```
    /// let l = resilience::adaptive_limit::AdaptiveLimiter::new("x", Default::default()).unwrap();
    /// assert_eq!(l.config(), resilience::AdaptiveLimitConfig::default());
    /// ```
    pub fn config(&self) -> AdaptiveLimitConfig {
        self.lock().config.clone()
    }

    /// Applies `config` at once: before anything was measured, the limit starts again at
    /// the new initial limit; after, new bounds move the limit within them (a larger
    /// limit lets waiting calls in) and a new algorithm starts from the limit in force. A
    /// new `max_wait` applies to the next call that waits.
    ///
    /// ```
    /// use resilience::{adaptive_limit::AdaptiveLimiter, AdaptiveLimitConfig};
    /// let l = AdaptiveLimiter::new("x", AdaptiveLimitConfig::default())?;
    /// l.configure(AdaptiveLimitConfig { min_limit: 30, max_limit: 40, initial_limit: 30, ..Default::default() })?;
    /// assert_eq!(l.limit(), 30);
    /// assert!(l.configure(AdaptiveLimitConfig { max_limit: 0, ..Default::default() }).is_err());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, config: AdaptiveLimitConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.apply(config);
        Ok(())
    }

    pub(crate) fn apply(&self, config: AdaptiveLimitConfig) {
        let mut state = self.lock();
        let bounds = bounds_of(&config);
        if state.min_rtt.is_none() {
            // Nothing measured yet: the new configuration starts at its initial limit.
            state.estimator = Estimator::new(
                config.algorithm,
                config.initial_limit,
                bounds,
                config.backoff_ratio,
                u64::from(config.initial_limit),
            );
        } else if config.algorithm != state.config.algorithm
            || config.backoff_ratio != state.config.backoff_ratio
        {
            let limit = self.places.limit();
            state.estimator = Estimator::new(
                config.algorithm,
                limit,
                bounds,
                config.backoff_ratio,
                u64::from(limit),
            );
        } else {
            state.estimator.rebound(bounds);
        }
        self.max_wait
            .store(duration_nanos(config.max_wait), Ordering::Relaxed);
        state.config = config;
        let limit = state.estimator.limit() as u32;
        self.places.set_limit(limit);
    }

    fn max_wait(&self) -> Duration {
        Duration::from_nanos(self.max_wait.load(Ordering::Relaxed))
    }

    #[inline]
    fn now(&self) -> u64 {
        match &self.clock {
            Timeline::System => crate::clock::counter_nanos(),
            Timeline::Given(clock) => duration_nanos(clock.now()),
        }
        // 0 marks an untimed call.
        .max(1)
    }

    /// A place if one is free now and no call waits for one (whatever the priority);
    /// never waits.
    ///
    /// ```
    /// let l = resilience::adaptive_limit::AdaptiveLimiter::new("x", Default::default()).unwrap();
    /// let permit = l.try_acquire().expect("a free place");
    /// permit.succeeded();
    /// assert_eq!(l.in_flight(), 0);
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<AdaptivePermit<'_>> {
        // HOT PATH: a load of the limit, a load and a CAS of the count; a timed call
        // reads the clock once more.
        let in_flight = self.places.try_acquire()?;
        Some(self.admitted(in_flight))
    }

    #[inline]
    fn admitted(&self, in_flight: u32) -> AdaptivePermit<'_> {
        self.window.saw_in_flight(in_flight);
        let start = if self.window.timed() { self.now() } else { 0 };
        AdaptivePermit {
            limiter: self,
            start,
        }
    }

    /// A place, waiting on this thread up to `max_wait` for one (served by priority,
    /// first come first served within one); then `Err(Overloaded)`.
    ///
    /// ```
    /// use resilience::{adaptive_limit::AdaptiveLimiter, AdaptiveLimitConfig, Priority};
    /// use std::time::Duration;
    /// let l = AdaptiveLimiter::new("x", AdaptiveLimitConfig {
    ///     initial_limit: 1, max_wait: Duration::from_millis(5), ..Default::default()
    /// })?;
    /// let held = l.try_acquire().unwrap();
    /// assert_eq!(l.acquire_blocking(Priority::High).unwrap_err().waited, Duration::from_millis(5));
    /// drop(held);
    /// assert!(l.acquire_blocking(Priority::Low).is_ok());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    #[inline]
    pub fn acquire_blocking(&self, priority: Priority) -> Result<AdaptivePermit<'_>, Overloaded> {
        match self.try_acquire() {
            Some(permit) => Ok(permit),
            None => self.wait_blocking(priority),
        }
    }

    #[cold]
    #[inline(never)]
    fn wait_blocking(&self, priority: Priority) -> Result<AdaptivePermit<'_>, Overloaded> {
        // No wait past the deadline of a timeout around the call (`crate::deadline`):
        // with none left, a full limit refuses at once.
        let max_wait = crate::deadline::clip(self.max_wait());
        if max_wait.is_zero() {
            return Err(self.refuse(priority, Duration::ZERO));
        }
        let started = Instant::now();
        let deadline = started.checked_add(max_wait);
        let notify = || Notify::Thread(std::thread::current());
        let ticket = match self.places.enter(priority, self.room(), notify()) {
            Entry::Admitted(in_flight) => return Ok(self.admitted(in_flight)),
            Entry::Full => return Err(self.refuse(priority, Duration::ZERO)),
            Entry::Waiting(ticket) => ticket,
        };
        loop {
            match self.places.poll(ticket, notify()) {
                Some(Decision::Granted) => return Ok(self.admitted(self.in_flight())),
                Some(Decision::Displaced) => return Err(self.refuse(priority, started.elapsed())),
                None => {}
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return match self.places.leave(ticket) {
                    Some(Decision::Granted) => Ok(self.admitted(self.in_flight())),
                    _ => Err(self.refuse(priority, max_wait)),
                };
            }
            std::thread::park_timeout(left);
        }
    }

    /// A place, waiting without blocking the thread up to `max_wait` for one (on tokio's
    /// timer in a runtime, so paused time applies), served by priority; then
    /// `Err(Overloaded)`. Dropping the future while it waits gives up its turn (or the
    /// place it was just given).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), resilience::ConfigError> {
    /// use resilience::{adaptive_limit::AdaptiveLimiter, AdaptiveLimitConfig, Priority};
    /// use std::time::Duration;
    /// let l = AdaptiveLimiter::new("x", AdaptiveLimitConfig {
    ///     initial_limit: 1, max_wait: Duration::from_secs(1), ..Default::default()
    /// })?;
    /// let held = l.try_acquire().unwrap();
    /// assert!(l.acquire(Priority::Normal).await.is_err()); // after a virtual second
    /// drop(held);
    /// assert!(l.acquire(Priority::Normal).await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn acquire(&self, priority: Priority) -> Result<AdaptivePermit<'_>, Overloaded> {
        match self.try_acquire() {
            Some(permit) => Ok(permit),
            None => self.wait(priority).await,
        }
    }

    /// The slow half of [`acquire`](AdaptiveLimiter::acquire).
    pub(crate) fn wait(&self, priority: Priority) -> Wait<'_> {
        Wait {
            limiter: self,
            priority,
            ticket: None,
            timer: None,
            max_wait: Duration::ZERO,
            started: false,
        }
    }

    /// How many calls may wait: as many as may run.
    fn room(&self) -> u32 {
        self.places.limit()
    }

    /// A refusal: counted, reported, with the wait until a place is expected to free.
    #[cold]
    pub(crate) fn refuse(&self, priority: Priority, waited: Duration) -> Overloaded {
        self.rejections.fetch_add(1, Ordering::Relaxed);
        if priority != Priority::Normal && self.max_wait().is_zero() {
            self.warn_priority_without_wait();
        }
        let overloaded = self.overloaded(priority, waited);
        let now = self.now();
        self.metrics.refused(priority);
        self.refusals.refused(
            &self.events,
            self.name,
            self.key.as_deref(),
            &overloaded,
            now,
        );
        overloaded
    }

    /// The refusal a call of `priority` gets now, without counting it (an injected one).
    pub(crate) fn overloaded(&self, priority: Priority, waited: Duration) -> Overloaded {
        let limit = self.places.limit();
        let ahead = u64::from(self.places.waiting()) + 1;
        let rtt = self.rtt.load(Ordering::Relaxed);
        let retry_after = Duration::from_nanos(rtt.saturating_mul(ahead) / u64::from(limit.max(1)))
            .max(MIN_RETRY_AFTER);
        Overloaded {
            name: self.name,
            key: self.key.clone(),
            limit,
            priority,
            waited,
            retry_after,
        }
    }

    #[cold]
    fn warn_priority_without_wait(&self) {
        let mut state = self.lock();
        if !std::mem::replace(&mut state.priority_warned, true) {
            super::events::priority_without_wait(self.name);
        }
    }

    /// A call ends, timed at `start` (0: untimed), `dropped` or not.
    #[inline]
    fn complete(&self, start: u64, dropped: bool) {
        if start == 0 && !dropped {
            return;
        }
        let now = self.now();
        if start != 0 {
            // The round trip it measures anyway (a constant no-op without `metrics`).
            let outcome = if dropped {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            self.durations
                .call(outcome, Duration::from_nanos(now.saturating_sub(start)));
        }
        let mut close = start != 0 && self.window.add(now.saturating_sub(start).max(1), now);
        if dropped {
            close |= self.window.drop_seen(now);
        }
        if close {
            self.close_window(now);
        }
    }

    /// The window may close: the call that gets the lock runs the algorithm on it.
    #[cold]
    #[inline(never)]
    fn close_window(&self, now: u64) {
        let Ok(mut state) = self.state.try_lock() else {
            return;
        };
        if state.window_started == 0 {
            // The first window starts with its first call.
            state.window_started = now;
        }
        let rtt = self.rtt.load(Ordering::Relaxed);
        let Some(closed) =
            self.window
                .close(now, state.window_started, rtt, self.places.in_flight())
        else {
            return;
        };
        state.window_started = now;
        if closed.count == 0 && closed.drops == 0 {
            return;
        }
        if closed.rtt != 0 {
            self.rtt.store(closed.rtt, Ordering::Relaxed);
            state.min_rtt = Some(state.min_rtt.map_or(closed.rtt, |m| m.min(closed.rtt)));
        }
        let limit = state.estimator.update(Sample {
            rtt: closed.rtt,
            in_flight: closed.max_in_flight,
            dropped: closed.drops > 0,
        }) as u32;
        self.places.set_limit(limit);
        let min_rtt = state.min_rtt;
        self.metrics.window(limit, closed);
        state.events.limit(
            &self.events,
            self.name,
            self.key.as_deref(),
            limit,
            closed,
            min_rtt,
            now,
        );
    }

    /// The limiter's state, counts and configuration.
    ///
    /// ```
    /// let l = resilience::adaptive_limit::AdaptiveLimiter::new("x", Default::default()).unwrap();
    /// let _p = l.try_acquire();
    /// let s = l.snapshot();
    /// assert_eq!((s.name.as_str(), s.limit, s.in_flight, s.min_rtt), ("x", 20, 1, None));
    /// ```
    pub fn snapshot(&self) -> AdaptiveLimitSnapshot {
        let state = self.lock();
        let rtt = self.rtt.load(Ordering::Relaxed);
        AdaptiveLimitSnapshot {
            name: self.name.to_owned(),
            key: self.key.as_deref().map(str::to_owned),
            limit: self.places.limit(),
            in_flight: self.places.in_flight(),
            waiting: self.places.waiting(),
            min_rtt: state.min_rtt.map(Duration::from_nanos),
            rtt: (rtt != 0).then(|| Duration::from_nanos(rtt)),
            baseline_rtt: state.estimator.baseline().map(Duration::from_nanos),
            rejections: self.rejections.load(Ordering::Relaxed),
            config: state.config.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is whole after any panic: each update replaces whole values.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn bounds_of(config: &AdaptiveLimitConfig) -> Bounds {
    Bounds {
        min: config.min_limit,
        max: config.max_limit,
    }
}

/// A place in an [`AdaptiveLimiter`]. Say how the call ended with
/// [`succeeded`](AdaptivePermit::succeeded) or [`dropped`](AdaptivePermit::dropped); a
/// permit dropped without either (a cancelled call) gives its place back unmeasured.
///
/// ```
/// let l = resilience::adaptive_limit::AdaptiveLimiter::new("x", Default::default()).unwrap();
/// l.try_acquire().unwrap().dropped();
/// assert_eq!(l.in_flight(), 0);
/// ```
#[must_use = "the place is given back when the permit drops"]
#[derive(Debug)]
pub struct AdaptivePermit<'a> {
    limiter: &'a AdaptiveLimiter,
    /// When the call started, on the limiter's timeline; 0 if it is not timed.
    start: u64,
}

impl AdaptivePermit<'_> {
    /// The call ended well (or failed in a way that says nothing of load): its
    /// round-trip time is measured.
    #[inline]
    pub fn succeeded(self) {
        self.limiter.complete(self.start, false);
    }

    /// The call was dropped (it timed out, or the dependency said it is overloaded): a
    /// sign the limit is too high.
    pub fn dropped(self) {
        self.limiter.complete(self.start, true);
    }

    /// [`dropped`](Self::dropped) if `dropped`, else [`succeeded`](Self::succeeded).
    #[inline]
    pub fn record(self, dropped: bool) {
        self.limiter.complete(self.start, dropped);
    }
}

impl Drop for AdaptivePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.limiter.places.release();
    }
}

/// The future of [`AdaptiveLimiter::wait`]: a place, or the refusal once `max_wait` has
/// passed or a call of a higher priority took its seat.
pub(crate) struct Wait<'a> {
    limiter: &'a AdaptiveLimiter,
    priority: Priority,
    ticket: Option<u64>,
    timer: Option<crate::clock::sleep::Sleep>,
    /// The wait this call may make: `max_wait`, clipped to the deadline at the first poll.
    max_wait: Duration,
    started: bool,
}

impl<'a> Future for Wait<'a> {
    type Output = Result<AdaptivePermit<'a>, Overloaded>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // No field is pinned structurally (the timer is boxed).
        let this = self.get_mut();
        let limiter = this.limiter;
        let notify = || Notify::Task(cx.waker().clone());
        let ticket = match this.ticket {
            Some(ticket) => ticket,
            None if this.started => return Poll::Pending,
            None => {
                this.started = true;
                // Read at the first poll, inside the timeout's poll that sets the deadline.
                let max_wait = crate::deadline::clip(limiter.max_wait());
                this.max_wait = max_wait;
                if max_wait.is_zero() {
                    return Poll::Ready(match limiter.try_acquire() {
                        Some(permit) => Ok(permit),
                        None => Err(limiter.refuse(this.priority, Duration::ZERO)),
                    });
                }
                match limiter
                    .places
                    .enter(this.priority, limiter.room(), notify())
                {
                    Entry::Admitted(in_flight) => {
                        return Poll::Ready(Ok(limiter.admitted(in_flight)))
                    }
                    Entry::Full => {
                        return Poll::Ready(Err(limiter.refuse(this.priority, Duration::ZERO)))
                    }
                    Entry::Waiting(ticket) => {
                        this.ticket = Some(ticket);
                        this.timer = Some(crate::clock::sleep::sleep(max_wait));
                        ticket
                    }
                }
            }
        };
        let decided = match limiter.places.poll(ticket, notify()) {
            Some(decision) => Some(decision),
            None => match this.timer.as_mut().map(|t| Pin::new(t).poll(cx)) {
                Some(Poll::Ready(())) | None => {
                    this.ticket = None;
                    let waited = this.max_wait;
                    return Poll::Ready(match limiter.places.leave(ticket) {
                        Some(Decision::Granted) => Ok(limiter.admitted(limiter.in_flight())),
                        _ => Err(limiter.refuse(this.priority, waited)),
                    });
                }
                Some(Poll::Pending) => None,
            },
        };
        match decided {
            None => Poll::Pending,
            Some(decision) => {
                this.ticket = None;
                Poll::Ready(match decision {
                    Decision::Granted => Ok(limiter.admitted(limiter.in_flight())),
                    Decision::Displaced => Err(limiter.refuse(this.priority, Duration::ZERO)),
                })
            }
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            if self.limiter.places.leave(ticket) == Some(Decision::Granted) {
                // Handed a place it will never use: hand it on.
                self.limiter.places.release();
            }
        }
    }
}

/// Where a limiter reads its time: the CPU's counter for the system clock (a third of
/// the OS clock's cost), else the clock given.
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::adaptive_limit::Algorithm;
    use crate::clock::ManualClock;

    const MS: Duration = Duration::from_millis(1);

    fn limiter(config: AdaptiveLimitConfig) -> (AdaptiveLimiter, ManualClock) {
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(1));
        let l = AdaptiveLimiter::new("tests.adaptive", config)
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        (l, clock)
    }

    fn fixed(limit: u32, max_wait: Duration) -> AdaptiveLimitConfig {
        AdaptiveLimitConfig {
            min_limit: limit,
            max_limit: limit,
            initial_limit: limit,
            max_wait,
            ..Default::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_calls_are_served_by_priority_then_in_order() {
        let l = Arc::new(
            AdaptiveLimiter::new("tests.adaptive.order", fixed(4, Duration::from_secs(60)))
                .unwrap(),
        );
        let held: Vec<_> = (0..4).map(|_| l.clone()).collect();
        let held: Vec<_> = held.iter().map(|l| l.try_acquire().unwrap()).collect();
        let served = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, priority) in [
            Priority::Low,
            Priority::Normal,
            Priority::Critical,
            Priority::Normal,
        ]
        .into_iter()
        .enumerate()
        {
            let (l, served) = (l.clone(), served.clone());
            tasks.push(tokio::spawn(async move {
                let permit = l.acquire(priority).await.unwrap();
                served.lock().unwrap().push(i);
                permit.succeeded();
            }));
            tokio::task::yield_now().await;
        }
        assert_eq!(l.snapshot().waiting, 4);
        // One place frees: each call served hands it on to the next, by priority.
        let mut held = held.into_iter();
        drop(held.next());
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*served.lock().unwrap(), [2, 1, 3, 0]);
        drop(held);
        assert_eq!((l.in_flight(), l.snapshot().waiting), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_room_refuses_the_lowest_priority_first() {
        let l = Arc::new(
            AdaptiveLimiter::new("tests.adaptive.room", fixed(1, Duration::from_secs(60))).unwrap(),
        );
        let _held = l.try_acquire().unwrap();
        let low = {
            let l = l.clone();
            tokio::spawn(async move { l.acquire(Priority::Low).await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        // The room (one seat, as the limit) is full: a high call takes the low one's seat.
        let high = {
            let l = l.clone();
            tokio::spawn(async move { l.acquire(Priority::High).await.map(|_| ()) })
        };
        let refused = low.await.unwrap().unwrap_err();
        assert_eq!(refused.priority, Priority::Low);
        // Another low one finds the room full of higher calls: refused at once.
        let start = tokio::time::Instant::now();
        assert!(l.acquire(Priority::Low).await.is_err());
        assert_eq!(start.elapsed(), Duration::ZERO);
        high.abort();
        assert_eq!(l.snapshot().rejections, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_is_refused_after_max_wait() {
        let l = AdaptiveLimiter::new(
            "tests.adaptive.max_wait",
            fixed(1, Duration::from_millis(250)),
        )
        .unwrap();
        let _held = l.try_acquire().unwrap();
        let start = tokio::time::Instant::now();
        let refused = l.acquire(Priority::Normal).await.unwrap_err();
        assert_eq!(
            (start.elapsed(), refused.waited),
            (Duration::from_millis(250), Duration::from_millis(250))
        );
        assert_eq!(l.snapshot().waiting, 0);
    }

    #[test]
    fn the_limit_adapts_once_a_window_of_timed_calls_closes() {
        let (l, clock) = limiter(AdaptiveLimitConfig {
            algorithm: Algorithm::Aimd,
            initial_limit: 4,
            ..Default::default()
        });
        // Ten calls of 10 ms, two at a time (the limit in use): one window, +1.
        for _ in 0..5 {
            let permits: Vec<_> = (0..2).map(|_| l.try_acquire().unwrap()).collect();
            clock.advance(10 * MS);
            for p in permits {
                p.succeeded();
            }
        }
        assert_eq!(l.limit(), 5);
        let s = l.snapshot();
        assert_eq!((s.min_rtt, s.rtt), (Some(10 * MS), Some(10 * MS)));
        // A drop: × 0.9 at the next check (the window is 20 ms long).
        clock.advance(30 * MS);
        l.try_acquire().unwrap().dropped();
        assert_eq!(l.limit(), 4);
    }

    #[test]
    fn a_call_dropped_without_an_outcome_is_not_measured() {
        let (l, clock) = limiter(AdaptiveLimitConfig {
            algorithm: Algorithm::Aimd,
            initial_limit: 2,
            ..Default::default()
        });
        for _ in 0..20 {
            let p = l.try_acquire().unwrap();
            clock.advance(10 * MS);
            drop(p);
        }
        let s = l.snapshot();
        assert_eq!((s.limit, s.in_flight, s.rtt), (2, 0, None));
    }

    #[test]
    fn the_refusal_estimates_when_a_place_frees() {
        let (l, clock) = limiter(AdaptiveLimitConfig {
            algorithm: Algorithm::Aimd,
            min_limit: 2,
            max_limit: 2,
            initial_limit: 2,
            ..Default::default()
        });
        for _ in 0..10 {
            let p = l.try_acquire().unwrap();
            clock.advance(20 * MS);
            p.succeeded();
        }
        let _held = (l.try_acquire().unwrap(), l.try_acquire().unwrap());
        // A place frees every 20 ms / 2 calls.
        let refused = l.acquire_blocking(Priority::Normal).unwrap_err();
        assert_eq!(refused.retry_after, 10 * MS);
        assert!(refused.retryable_for_tests());
    }

    impl Overloaded {
        fn retryable_for_tests(&self) -> bool {
            crate::MarcusError::retryable(self)
        }
    }

    #[test]
    fn a_sync_waiter_gets_a_place_given_back() {
        let l = Arc::new(
            AdaptiveLimiter::new("tests.adaptive.sync", fixed(1, Duration::from_secs(60))).unwrap(),
        );
        let held = l.try_acquire().unwrap();
        let waiter = {
            let l = l.clone();
            std::thread::spawn(move || {
                l.acquire_blocking(Priority::Normal)
                    .map(|p| p.succeeded())
                    .is_ok()
            })
        };
        while l.snapshot().waiting == 0 {
            std::thread::yield_now();
        }
        drop(held);
        assert!(waiter.join().unwrap());
        assert_eq!(l.in_flight(), 0);
    }
}
