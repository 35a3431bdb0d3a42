//! Time, in one module: the one source of time for breakers, retries and the monitor
//! (so tests control it), the CPU counter a rate limiter reads, and the sleeps between
//! attempts with the timer thread behind them (`sleep.rs`).
//!
//! [`SystemClock`] follows tokio's clock when the `tokio` feature is on, so tests on
//! paused time (`#[tokio::test(start_paused = true)]`) see virtual time. Its coarse
//! reading ([`Clock::now_coarse`], which breakers use for their recovery deadline) follows
//! tokio's clock only with the `test-util` feature. [`ManualClock`] is moved by hand.

pub(crate) mod sleep;

use std::sync::Arc;
use std::time::Duration;

use crate::sync::atomic::{AtomicU64, Ordering};

/// A monotonic clock: the time elapsed since a fixed, arbitrary origin.
///
/// ```
/// use resilience::clock::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_secs(3));
/// assert_eq!(clock.now(), Duration::from_secs(3));
/// ```
pub trait Clock: Send + Sync + core::fmt::Debug {
    /// Time since this clock's origin. Never assumed monotonic by its readers: a clock
    /// that goes backwards must leave every user of it in a valid state.
    fn now(&self) -> Duration;

    /// [`now`](Clock::now), read more cheaply where the clock can: it may be off by a
    /// few milliseconds. Breakers read it for their recovery deadline, on every call
    /// they refuse. The default is `now()`.
    ///
    /// ```
    /// use resilience::clock::{Clock, ManualClock};
    /// let clock = ManualClock::new();
    /// assert_eq!(clock.now_coarse(), clock.now());
    /// ```
    fn now_coarse(&self) -> Duration {
        self.now()
    }
}

/// The real clock (tokio's, when the `tokio` feature is on, so paused time applies).
///
/// Its [`now_coarse`](Clock::now_coarse) is the OS's coarse monotonic clock
/// (`CLOCK_MONOTONIC_COARSE` on Linux: a few nanoseconds a read, one scheduler tick of
/// precision, 1–10 ms), on the same origin as `now`. With the `test-util` feature, inside
/// a tokio runtime it is `now` instead, so a test on paused time sees breakers recover
/// when it advances the clock.
///
/// ```
/// use resilience::clock::{Clock, SystemClock};
/// use std::time::Duration;
/// let a = SystemClock.now();
/// assert!(SystemClock.now() >= a);
/// assert!(SystemClock.now_coarse().abs_diff(SystemClock.now()) < Duration::from_millis(50));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

fn origin() -> std::time::Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(|| {
        // Backdated: a paused tokio clock starts at the time its runtime was built, which
        // may be before this first read; an origin after it would make `now` stick at
        // zero (saturating) and lag virtual time by the difference.
        let now = std::time::Instant::now();
        [86_400, 3_600, 60, 1]
            .into_iter()
            .find_map(|secs| now.checked_sub(Duration::from_secs(secs)))
            .unwrap_or(now)
    })
}

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Duration {
        #[cfg(feature = "tokio")]
        {
            tokio::time::Instant::now()
                .saturating_duration_since(tokio::time::Instant::from_std(origin()))
        }
        #[cfg(not(feature = "tokio"))]
        {
            os_now()
        }
    }

    #[inline]
    fn now_coarse(&self) -> Duration {
        // Paused time exists only inside a runtime; outside one, tokio's clock is the OS's.
        #[cfg(any(test, feature = "test-util"))]
        if tokio::runtime::Handle::try_current().is_ok() {
            return self.now();
        }
        coarse_now()
    }
}

impl SystemClock {
    /// [`now_coarse`](Clock::now_coarse) in nanoseconds: what a breaker's refusal
    /// compares, without making a `Duration` it would take apart again.
    #[inline]
    pub(crate) fn now_coarse_nanos(self) -> u64 {
        #[cfg(any(test, feature = "test-util"))]
        if tokio::runtime::Handle::try_current().is_ok() {
            return duration_nanos(self.now());
        }
        coarse_now_nanos()
    }
}

/// The OS's monotonic clock on `origin()`.
fn os_now() -> Duration {
    std::time::Instant::now().saturating_duration_since(origin())
}

/// The coarse clock, moved onto `origin()`: its reading at the first call is paired with
/// the precise reading then, so the two agree to within the coarse clock's tick.
#[inline]
fn coarse_now() -> Duration {
    Duration::from_nanos(coarse_now_nanos())
}

/// [`coarse_now`] in nanoseconds.
#[inline]
fn coarse_now_nanos() -> u64 {
    static START: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    let &(coarse, precise) = START.get_or_init(|| (coarse_nanos(), duration_nanos(os_now())));
    precise.saturating_add(coarse_nanos().saturating_sub(coarse))
}

/// The OS's coarse monotonic clock in nanoseconds, on its own origin.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
fn coarse_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE always exists on
    // Linux (since 2.6.32), so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
    (now.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(now.tv_nsec as u64)
}

/// The OS's coarse monotonic clock in nanoseconds, on its own origin.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
fn coarse_nanos() -> u64 {
    static BASE: std::sync::OnceLock<coarsetime::Instant> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(coarsetime::Instant::now);
    coarsetime::Instant::now().duration_since(base).as_nanos()
}

/// A clock moved by hand, for tests; clones share one time.
///
/// ```
/// use resilience::clock::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let shared = clock.clone();
/// clock.set(Duration::from_millis(1500));
/// assert_eq!(shared.now(), Duration::from_millis(1500));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Moves the clock forward by `by`, stopping at the end of its range (`u64::MAX`
    /// nanoseconds, about 584 years): it never wraps to the start.
    ///
    /// ```
    /// use resilience::clock::{Clock, ManualClock};
    /// use std::time::Duration;
    ///
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_secs(1));
    /// clock.advance(Duration::MAX);
    /// assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = duration_nanos(by);
        // Never fails: the closure always answers.
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(by))
            });
    }

    /// Sets the clock to `to`, which may be earlier than now (to test clocks going back).
    pub fn set(&self, to: Duration) {
        self.nanos.store(duration_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// A shared clock is a clock: every `with_clock` and `new` that takes a clock takes
/// `impl Clock`, so a `ManualClock`, an `Arc<ManualClock>` and an `Arc<dyn Clock>` all fit.
///
/// ```
/// use resilience::clock::{Clock, ManualClock};
/// use resilience::retry::{BudgetConfig, RetryBudget};
/// use resilience::{breaker::Breaker, monitor::Monitor, recovery::Recovery, registry::Registry};
/// use std::sync::Arc;
///
/// let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
/// let _ = Registry::with_clock(clock.clone());
/// let _ = Recovery::with_clock(clock.clone());
/// let _ = Monitor::default().with_clock(clock.clone());
/// let _ = Breaker::new("x", Default::default())?.with_clock(clock.clone());
/// let _ = RetryBudget::new(BudgetConfig::default(), clock.clone())?;
/// let _ = Registry::with_clock(ManualClock::new());
/// # Ok::<(), resilience::ConfigError>(())
/// ```
impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }

    fn now_coarse(&self) -> Duration {
        (**self).now_coarse()
    }
}

/// `clock` as the `Arc<dyn Clock>` the runtime keeps; an `Arc<dyn Clock>` is kept as it
/// is, not wrapped again, and a [`SystemClock`] becomes [`system()`], so readers can
/// tell it apart ([`is_system`]).
pub(crate) fn shared(clock: impl Clock + 'static) -> Arc<dyn Clock> {
    let any: &dyn core::any::Any = &clock;
    if let Some(shared) = any.downcast_ref::<Arc<dyn Clock>>() {
        return Arc::clone(shared);
    }
    if any.is::<SystemClock>() || any.is::<Arc<SystemClock>>() {
        return system();
    }
    Arc::new(clock)
}

/// The one shared [`SystemClock`], which [`system`] hands out.
static SYSTEM: std::sync::LazyLock<Arc<dyn Clock>> =
    std::sync::LazyLock::new(|| Arc::new(SystemClock));

/// The one shared [`SystemClock`].
pub(crate) fn system() -> Arc<dyn Clock> {
    Arc::clone(&SYSTEM)
}

/// Whether `clock` is the shared system clock, whose readers may use [`counter_nanos`].
pub(crate) fn is_system(clock: &Arc<dyn Clock>) -> bool {
    Arc::ptr_eq(clock, &SYSTEM)
}

/// The system's time in nanoseconds, on a timeline of its own: comparable only with
/// other readings of this function, never with [`SystemClock::now`]. It reads the CPU's
/// time-stamp counter where it can (a third of `Instant::now`'s cost), the OS's
/// monotonic clock where it cannot. With the `test-util` feature it is
/// [`SystemClock::now`], so paused tokio time applies, in a runtime or out of one.
#[inline]
pub(crate) fn counter_nanos() -> u64 {
    #[cfg(any(test, feature = "test-util"))]
    {
        duration_nanos(SystemClock.now())
    }
    #[cfg(not(any(test, feature = "test-util")))]
    {
        static COUNTER: std::sync::LazyLock<(quanta::Clock, u64)> =
            std::sync::LazyLock::new(|| {
                let clock = quanta::Clock::new();
                let start = clock.raw();
                (clock, start)
            });
        let (clock, start) = &*COUNTER;
        clock.delta_as_nanos(*start, clock.raw())
    }
}

/// A duration in nanoseconds, saturating at `u64::MAX` (584 years).
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
