//! [`Breaker`]: the state machine, lock-free on every call.
//!
//! Closed → open on `failure_threshold` consecutive failures, on too many failures in a
//! time window, or on a failure or slow-call rate over the count-based window.
//! Open → half-open, lazily, when a call arrives after `recovery_timeout`; half-open
//! lets `half_open_max_calls` trials run at once, closes after `success_threshold`
//! successes and re-opens on any failure. Every transition is one compare-and-swap of
//! the state word (see `state.rs`), so racing threads cannot lose one or admit more
//! trials than allowed.//!
//! The parts, one file each: `admission.rs` (whether a call may run), `recording.rs`
//! (a call's outcome), `transitions.rs` (moving between states, also those a cluster
//! applies), `configure.rs` (a new configuration, the windows resized), `snapshot.rs`;
//! the packed words (state, admission decision, deadline) are in `../state.rs`.

mod admission;
mod configure;
mod pattern;
mod recording;
mod snapshot;
mod transitions;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::chain::Chain;
use super::failure_times::FailureTimes;
use super::live::{self, Live};
use super::permit::{Kind, Permit};
use super::publish;
use super::rejections::Rejections;
use super::state::{tagged, Admit, Word, DEADLINE_SHIFT, GEN_MASK, MAX_DEADLINE_MS, MAX_STRIKES};
use super::window::{
    Counts, Rates, TimeWindow, Window as Outcomes, CHECK_ONLY, FAILED, RECORDED, SLOW,
};
use super::{BreakerConfig, BreakerSnapshot, BreakerState, CircuitOpen, MAX_WINDOW_LEN};
use crate::clock::{duration_nanos, Clock, SystemClock};
use crate::events::Sink;
use crate::metrics::Durations;
#[cfg(feature = "metrics")]
use crate::metrics::Outcome;
use crate::sync::atomic::{AtomicU64, Ordering::*};
use crate::ConfigError;

/// A circuit breaker.
///
/// Usually made and shared by the registry (`#[circuit_breaker]`,
/// [`registry().register`](crate::registry::Registry::register)); a `Breaker` made with
/// [`Breaker::new`] stands alone, which suits tests and hand-written call paths.
///
/// ```
/// use resilience::breaker::Breaker;
/// use resilience::clock::ManualClock;
/// use resilience::{BreakerConfig, BreakerState, CircuitOpen};
/// use std::{sync::Arc, time::Duration};
///
/// let clock = ManualClock::new();
/// let b = Breaker::new("payments", BreakerConfig {
///     failure_threshold: 2,
///     success_threshold: 1,
///     recovery_timeout: Duration::from_secs(10),
///     ..Default::default()
/// })?
/// .with_clock(Arc::new(clock.clone()));
///
/// for _ in 0..2 {
///     let _ = b.call(|| Err::<(), _>(CircuitOpen::from_name("upstream")));
/// }
/// assert_eq!(b.state(), BreakerState::Open);
/// assert!(b.acquire().is_err());
///
/// clock.advance(Duration::from_secs(10));
/// b.acquire().expect("a trial").record_success();
/// assert_eq!(b.state(), BreakerState::Closed);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
pub struct Breaker {
    hot: Hot,
    stats: Stats,
    outcomes: Chain<Outcomes>,
    /// The time window of the rates (`rate_window`), made the first time it is asked for.
    rate_window: OnceLock<Box<TimeWindow>>,
    failure_times: Chain<FailureTimes>,
    name: &'static str,
    clock: Arc<dyn Clock>,
    /// `clock` is the shared system clock: a refusal reads the coarse clock itself,
    /// without the call through the `dyn Clock` (see [`now_coarse`](Breaker::now_coarse)).
    system_clock: bool,
    config: Mutex<BreakerConfig>,
    parent: OnceLock<Arc<Breaker>>,
    metrics: super::metrics::BreakerMetrics,
    /// Its call-duration histograms, made on the first timed call (`metrics::time_calls`).
    #[cfg(feature = "metrics")]
    durations: OnceLock<Durations>,
    /// Its registry's event stream (none outside a registry).
    events: Sink,
}

/// Read on every call, written only by failures and transitions: its own cache lines,
/// so a successful call never has to fetch a line another thread just wrote.
#[repr(align(64))]
struct Hot {
    word: AtomicU64,
    live: Live,
    deadline: AtomicU64,
    /// The failed trials in a row behind the current open period (`state.rs`).
    strikes: AtomicU64,
}

/// Written on rejections and openings only.
#[repr(align(64))]
struct Stats {
    rejections: Rejections,
    opened: AtomicU64,
    /// At most one WARN a second for its refusals (written once a second).
    warn: crate::refusals::RefusalWarn,
}

impl core::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Breaker {
    /// A closed breaker named `name`, on the system clock; `config` is validated.
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig};
    ///
    /// let err = Breaker::new("x", BreakerConfig { success_threshold: 0, ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "success_threshold");
    /// ```
    pub fn new(name: impl AsRef<str>, config: BreakerConfig) -> Result<Breaker, ConfigError> {
        config.validate()?;
        Ok(Breaker::build(
            crate::names::intern(name.as_ref()),
            None,
            config,
        ))
    }

    /// `config` must have been validated; `key` labels its metrics when keyed.
    fn build(name: &'static str, key: Option<&Arc<str>>, config: BreakerConfig) -> Breaker {
        let outcomes = if uses_count_window(&config) {
            Outcomes::new(config.window_size, config.window_size)
        } else {
            Outcomes::new(0, 0)
        };
        let rate_window = OnceLock::new();
        if let Some(window) = time_window(&config) {
            let _ = rate_window.set(Box::new(TimeWindow::new(window)));
        }
        let failure_times = match (config.window, config.max_failures_per_window) {
            (Some(_), Some(n)) => FailureTimes::new(n, 0),
            _ => FailureTimes::new(0, 0),
        };
        Breaker {
            hot: Hot {
                word: AtomicU64::new(Word::new(BreakerState::Closed, 0, 0, 0).0),
                live: Live::new(&config),
                deadline: AtomicU64::new(0),
                strikes: AtomicU64::new(0),
            },
            stats: Stats {
                rejections: Rejections::new(),
                opened: AtomicU64::new(0),
                warn: crate::refusals::RefusalWarn::new(),
            },
            outcomes: Chain::new(outcomes),
            rate_window,
            failure_times: Chain::new(failure_times),
            metrics: super::metrics::BreakerMetrics::new(name, key),
            #[cfg(feature = "metrics")]
            durations: OnceLock::new(),
            name,
            clock: crate::clock::system(),
            system_clock: true,
            config: Mutex::new(config),
            parent: OnceLock::new(),
            events: Sink::NONE,
        }
    }

    /// The same breaker, sending its events through `events` (its registry's stream).
    pub(crate) fn with_events(mut self, events: Sink) -> Breaker {
        self.events = events;
        self
    }

    /// The same breaker on another clock (a [`ManualClock`](crate::clock::ManualClock)
    /// in tests).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, clock::ManualClock, BreakerConfig};
    /// let b = Breaker::new("x", BreakerConfig::default())
    ///     .unwrap()
    ///     .with_clock(std::sync::Arc::new(ManualClock::new()));
    /// assert_eq!(b.name(), "x");
    /// ```
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Breaker {
        self.clock = crate::clock::shared(clock);
        self.system_clock = crate::clock::is_system(&self.clock);
        self
    }

    /// The breaker's name.
    ///
    /// ```
    /// let b = resilience::breaker::Breaker::new("kanban", Default::default()).unwrap();
    /// assert_eq!(b.name(), "kanban");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The configuration in force (a copy).
    ///
    /// ```
    /// let b = resilience::breaker::Breaker::new("x", Default::default()).unwrap();
    /// assert_eq!(b.config().failure_threshold, 5);
    /// ```
    pub fn config(&self) -> BreakerConfig {
        self.lock_config().clone()
    }

    /// The current state. An open breaker whose recovery timeout has passed still says
    /// [`Open`](BreakerState::Open) until a call takes the trial.
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerState};
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// assert_eq!(b.state(), BreakerState::Closed);
    /// ```
    pub fn state(&self) -> BreakerState {
        self.load().state()
    }

    /// Back to closed with the state machine's counts cleared (consecutive failures,
    /// windows). Permits taken before the reset no longer count. The lifetime totals
    /// of the snapshot (`rejections`, `times_opened`) are kept.
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerState};
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// b.force_open();
    /// b.reset();
    /// assert_eq!(b.state(), BreakerState::Closed);
    /// ```
    pub fn reset(&self) {
        self.set_state(BreakerState::Closed);
    }

    /// Opens the breaker until [`reset`](Breaker::reset), whatever the calls do.
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerState};
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// b.force_open();
    /// let open = b.acquire().unwrap_err();
    /// assert_eq!((open.state, open.retry_after), (BreakerState::ForcedOpen, None));
    /// ```
    pub fn force_open(&self) {
        self.set_state(BreakerState::ForcedOpen);
    }

    /// Opens the breaker now, as if its rules had tripped (resilience4j's
    /// `transitionToOpenState`): calls are refused until the open period has passed,
    /// then a trial is let through. From any state: from closed the period is
    /// `recovery_timeout`; an open or half-open breaker's current period starts again
    /// (it does not grow: no trial failed).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerState};
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// b.transition_to_open();
    /// let open = b.acquire().unwrap_err();
    /// assert_eq!(open.state, BreakerState::Open);
    /// assert!(open.retry_after.is_some());
    /// assert_eq!(b.snapshot().times_opened, 1);
    /// ```
    pub fn transition_to_open(&self) {
        let mut word = self.load();
        while let Err(now) = self.open(word, false) {
            word = now;
        }
    }

    /// Moves the breaker to half-open now, with no trial running (resilience4j's
    /// `transitionToHalfOpenState`): the next `half_open_max_calls` calls are trials, and
    /// `success_threshold` successes close it, a failure opens it again.
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig, BreakerState};
    /// let b = Breaker::new("x", BreakerConfig { success_threshold: 1, ..Default::default() }).unwrap();
    /// b.transition_to_half_open();
    /// assert_eq!(b.state(), BreakerState::HalfOpen);
    /// let trial = b.acquire().unwrap();
    /// assert!(trial.is_trial());
    /// trial.record_success();
    /// assert_eq!(b.state(), BreakerState::Closed);
    /// ```
    pub fn transition_to_half_open(&self) {
        self.set_state(BreakerState::HalfOpen);
    }

    /// Lets every call through and records nothing, until [`reset`](Breaker::reset).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerState};
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// b.disable();
    /// for _ in 0..10 { b.acquire().unwrap().record_failure(); }
    /// assert_eq!(b.state(), BreakerState::Disabled);
    /// ```
    pub fn disable(&self) {
        self.set_state(BreakerState::Disabled);
    }

    /// Asks to make a call. `Ok` carries the [`Permit`] that records the call's outcome;
    /// `Err` says the call must not run.
    ///
    /// HOT PATH: through a closed breaker with neither a parent nor slow-call timing this
    /// is two loads from a read-mostly cache line, no write, no clock read (with the
    /// `metrics` feature, a third: whether calls are timed, `metrics::time_calls`).
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// let permit = b.acquire().expect("closed");
    /// let outcome: Result<u32, std::io::Error> = Ok(7);
    /// permit.record(&outcome, |_| true);
    /// ```
    #[inline]
    pub fn acquire(&self) -> Result<Permit<'_>, CircuitOpen> {
        let word = Word(self.hot.word.load(Relaxed));
        let modes = self.hot.live.modes.load(Relaxed);
        if word.state_bits() == Word::CLOSED_BITS
            && modes & (live::PARENT | live::SLOW_RATE) == 0
            && !Durations::calls_wanted()
        {
            return Ok(Permit::new(self, Kind::Closed, word.gen(), modes, 0));
        }
        // Only scalars cross from the slow path (a packed `Admit`), so the permit it
        // makes is built here in registers, not copied out of a returned `Result`.
        let admit = self.acquire_slow(word, modes);
        match admit.kind() {
            Some(kind) => Ok(Permit::new(
                self,
                kind,
                admit.gen(),
                admit.modes(),
                admit.value,
            )),
            None => Err(CircuitOpen {
                name: self.ancestor(admit.depth()).name,
                state: admit.state(),
                retry_after: admit.value.checked_sub(1).map(Duration::from_nanos),
            }),
        }
    }

    /// Runs `f` through the breaker: refused at once while open, its error counted as a
    /// failure, a panic counted as a failure and then resumed.
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig, CircuitOpen};
    ///
    /// #[derive(Debug)]
    /// enum E { Down, Open(CircuitOpen) }
    /// impl From<CircuitOpen> for E { fn from(o: CircuitOpen) -> E { E::Open(o) } }
    ///
    /// let b = Breaker::new("x", BreakerConfig { failure_threshold: 1, ..Default::default() }).unwrap();
    /// assert!(matches!(b.call(|| Err::<(), _>(E::Down)), Err(E::Down)));
    /// assert!(matches!(b.call(|| Ok::<_, E>(1)), Err(E::Open(_))));
    /// ```
    #[inline]
    pub fn call<T, E: From<CircuitOpen>>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let permit = self.acquire().map_err(E::from)?;
        let outcome = f();
        permit.record(&outcome, |_| true);
        outcome
    }

    /// [`call`](Breaker::call) for a future: refused at once while open (the future is
    /// not polled), its error counted as a failure. A call whose future is dropped
    /// before it ends records nothing (a trial gives its half-open place back).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig, CircuitOpen};
    ///
    /// #[derive(Debug)]
    /// enum E { Down, Open(CircuitOpen) }
    /// impl From<CircuitOpen> for E { fn from(o: CircuitOpen) -> E { E::Open(o) } }
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let b = Breaker::new("x", BreakerConfig { failure_threshold: 1, ..Default::default() }).unwrap();
    /// assert!(matches!(b.call_async(async { Err::<(), _>(E::Down) }).await, Err(E::Down)));
    /// assert!(matches!(b.call_async(async { Ok::<_, E>(1) }).await, Err(E::Open(_))));
    /// # });
    /// ```
    pub async fn call_async<T, E: From<CircuitOpen>>(
        &self,
        f: impl core::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let permit = self.acquire().map_err(E::from)?;
        let outcome = f.await;
        permit.record(&outcome, |_| true);
        outcome
    }

    fn lock_config(&self) -> std::sync::MutexGuard<'_, BreakerConfig> {
        // A panic while holding it cannot leave a half-written config (it is replaced
        // whole), so a poisoned lock is still good.
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Links the parent the registry resolved. False if a different one is linked.
    pub(crate) fn link_parent(&self, parent: Arc<Breaker>) -> bool {
        let linked = self.parent.get_or_init(|| parent.clone());
        if !Arc::ptr_eq(linked, &parent) {
            return false;
        }
        self.hot.live.modes.fetch_or(live::PARENT, Relaxed);
        true
    }

    /// The linked parent's name.
    pub(crate) fn linked_parent(&self) -> Option<&Arc<Breaker>> {
        self.parent.get()
    }

    // ----- helpers -------------------------------------------------------------------

    #[inline]
    fn load(&self) -> Word {
        Word(self.hot.word.load(Acquire))
    }

    #[inline]
    fn load_relaxed(&self) -> Word {
        Word(self.hot.word.load(Relaxed))
    }

    #[inline]
    fn cas(&self, current: Word, new: Word) -> Result<(), Word> {
        self.hot
            .word
            .compare_exchange(current.0, new.0, AcqRel, Acquire)
            .map(drop)
            .map_err(Word)
    }

    fn now_nanos(&self) -> u64 {
        duration_nanos(self.clock.now())
    }

    /// A new permit's timing: `(TIMED, now)` when calls are timed, else nothing.
    #[inline]
    fn timing(&self) -> (u8, u64) {
        if Durations::calls_wanted() {
            (super::permit::TIMED, self.now_nanos())
        } else {
            (0, 0)
        }
    }

    /// A timed call admitted at `start` (`now_nanos`) ended with `outcome`.
    #[cfg(feature = "metrics")]
    #[cold]
    #[inline(never)]
    pub(super) fn call_ended(&self, outcome: Outcome, start: u64) {
        let took = Duration::from_nanos(self.now_nanos().saturating_sub(start));
        self.durations
            .get_or_init(|| Durations::new("breaker", self.name))
            .call(outcome, took);
    }

    /// The breaker's coarse clock. HOT PATH of a refusal: on the system clock (every
    /// breaker but a test's) read inline, not through the `dyn Clock`.
    #[inline]
    fn now_coarse(&self) -> Duration {
        if self.system_clock {
            SystemClock.now_coarse()
        } else {
            self.clock.now_coarse()
        }
    }

    /// [`now_coarse`](Self::now_coarse) in nanoseconds.
    #[inline]
    fn now_coarse_nanos(&self) -> u64 {
        if self.system_clock {
            SystemClock.now_coarse_nanos()
        } else {
            duration_nanos(self.clock.now_coarse())
        }
    }
}

impl CircuitOpen {
    /// A refusal naming `name` as an open breaker with no time given, for tests and for
    /// code that refuses calls itself.
    ///
    /// ```
    /// let open = resilience::CircuitOpen::from_name("kanban");
    /// assert_eq!(open.name, "kanban");
    /// ```
    pub fn from_name(name: &'static str) -> CircuitOpen {
        CircuitOpen {
            name,
            state: BreakerState::Open,
            retry_after: None,
        }
    }
}

/// Whether `config` has a rate rule (a failure or slow-call rate), over either window.
fn uses_rates(config: &BreakerConfig) -> bool {
    config.failure_rate.is_some() || config.slow_call_rate.is_some()
}

/// Whether `config` uses the count-based window: whether the breaker keeps one, reports
/// its counts and resizes it.
fn uses_count_window(config: &BreakerConfig) -> bool {
    uses_rates(config) && config.rate_window.is_none()
}

/// The length of `config`'s time window in nanoseconds, if its rates are over one.
fn time_window(config: &BreakerConfig) -> Option<u64> {
    config
        .rate_window
        .filter(|_| uses_rates(config))
        .map(duration_nanos)
}
