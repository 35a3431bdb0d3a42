//! [`Breaker`]: the state machine, lock-free on every call.
//!
//! Closed → open on `failure_threshold` consecutive failures, on too many failures in a
//! time window, or on a failure or slow-call rate over the count-based window.
//! Open → half-open, lazily, when a call arrives after `recovery_timeout`; half-open
//! lets `half_open_max_calls` trials run at once, closes after `success_threshold`
//! successes and re-opens on any failure. Every transition is one compare-and-swap of
//! the state word (see `state.rs`), so racing threads cannot lose one or admit more
//! trials than allowed.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::chain::Chain;
use super::failure_times::FailureTimes;
use super::live::{self, Live};
use super::permit::{Kind, Permit};
use super::state::{Word, GEN_MASK};
use super::window::{Counts, Rates, Window as Outcomes, CHECK_ONLY, FAILED, RECORDED, SLOW};
use super::{BreakerConfig, BreakerSnapshot, BreakerState, CircuitOpen, MAX_WINDOW_LEN};
use crate::clock::{duration_nanos, Clock, SystemClock};
use crate::sync::atomic::{AtomicU64, Ordering::*};
use crate::ConfigError;

/// How far up a chain of parents a call looks (chains are acyclic; this is a backstop).
const MAX_PARENT_DEPTH: u8 = 32;
/// The deadline word: milliseconds in the high 40 bits, the generation in the low 24.
const DEADLINE_SHIFT: u32 = 24;
const MAX_DEADLINE_MS: u64 = (1 << 40) - 1;

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
    failure_times: Chain<FailureTimes>,
    name: &'static str,
    clock: Arc<dyn Clock>,
    config: Mutex<BreakerConfig>,
    parent: OnceLock<Arc<Breaker>>,
    metrics: crate::metrics::BreakerMetrics,
}

/// What an admission decided, before it becomes a [`Permit`] or a [`CircuitOpen`]: two
/// words, so it comes back from the out-of-line slow path in two registers, and the
/// refusal is built in the inlined [`Breaker::acquire`], in the caller's own slot.
#[derive(Clone, Copy)]
struct Admit {
    /// For a permit: when the call started, if slow calls are timed. For a refusal: the
    /// time left in nanoseconds plus one, zero when no time is scheduled.
    value: u64,
    /// Low to high bytes: the permit's kind (`REFUSED` for a refusal), its modes, the
    /// refusing breaker's state, how many parent links up that breaker is, and in the
    /// high half the permit's generation.
    meta: u64,
}

impl Admit {
    const REFUSED: u8 = 0xff;

    #[inline]
    fn permit(kind: Kind, gen: u32, modes: u8, start: u64) -> Admit {
        Admit {
            value: start,
            meta: u64::from(kind as u8) | u64::from(modes) << 8 | u64::from(gen) << 32,
        }
    }

    fn refusal(state: BreakerState, retry_after: Option<Duration>, depth: u8) -> Admit {
        Admit {
            value: retry_after.map_or(0, |d| duration_nanos(d).saturating_add(1)),
            meta: u64::from(Admit::REFUSED) | state.bits() << 16 | u64::from(depth) << 24,
        }
    }

    #[inline]
    fn kind(self) -> Option<Kind> {
        match self.meta as u8 {
            k if k == Kind::Closed as u8 => Some(Kind::Closed),
            k if k == Kind::Trial as u8 => Some(Kind::Trial),
            k if k == Kind::Noop as u8 => Some(Kind::Noop),
            _ => None,
        }
    }

    #[inline]
    fn modes(self) -> u8 {
        (self.meta >> 8) as u8
    }

    #[inline]
    fn state(self) -> BreakerState {
        // Decoded as the state word decodes the same bits.
        Word((self.meta >> 16) & 0xff).state()
    }

    #[inline]
    fn depth(self) -> u8 {
        (self.meta >> 24) as u8
    }

    #[inline]
    fn gen(self) -> u32 {
        (self.meta >> 32) as u32
    }
}

/// Read on every call, written only by failures and transitions: its own cache lines,
/// so a successful call never has to fetch a line another thread just wrote.
#[repr(align(64))]
struct Hot {
    word: AtomicU64,
    live: Live,
    deadline: AtomicU64,
}

/// Written on rejections and openings only.
#[repr(align(64))]
struct Stats {
    rejections: AtomicU64,
    opened: AtomicU64,
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
        Ok(Breaker::build(super::name::intern(name.as_ref()), config))
    }

    /// A standalone breaker with the default configuration (which is always valid).
    pub(crate) fn fallback(name: &str) -> Breaker {
        Breaker::build(super::name::intern(name), BreakerConfig::default())
    }

    /// `config` must have been validated.
    fn build(name: &'static str, config: BreakerConfig) -> Breaker {
        let outcomes = if config.failure_rate.is_some() || config.slow_call_rate.is_some() {
            Outcomes::new(config.window_size, config.window_size)
        } else {
            Outcomes::new(0, 0)
        };
        let failure_times = match (config.window, config.max_failures_per_window) {
            (Some(_), Some(n)) => FailureTimes::new(n, 0),
            _ => FailureTimes::new(0, 0),
        };
        Breaker {
            hot: Hot {
                word: AtomicU64::new(Word::new(BreakerState::Closed, 0, 0, 0).0),
                live: Live::new(&config),
                deadline: AtomicU64::new(0),
            },
            stats: Stats {
                rejections: AtomicU64::new(0),
                opened: AtomicU64::new(0),
            },
            outcomes: Chain::new(outcomes),
            failure_times: Chain::new(failure_times),
            metrics: crate::metrics::BreakerMetrics::new(name),
            name,
            clock: Arc::new(SystemClock),
            config: Mutex::new(config),
            parent: OnceLock::new(),
        }
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
    /// `transitionToOpenState`): calls are refused until the recovery timeout has
    /// passed, then a trial is let through. From any state; an open breaker's recovery
    /// timeout starts again.
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
        while let Err(now) = self.open(word) {
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

    /// Applies a new configuration at once (validated first). Thresholds take effect
    /// from the next outcome; a window whose size changed starts empty. A breaker's
    /// parent, once linked by the registry, cannot change (it can be removed).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig, BreakerState};
    /// let b = Breaker::new("x", BreakerConfig::default()).unwrap();
    /// b.configure(BreakerConfig { failure_threshold: 1, ..Default::default() }).unwrap();
    /// b.acquire().unwrap().record_failure();
    /// assert_eq!(b.state(), BreakerState::Open);
    /// assert!(b.configure(BreakerConfig { window_size: 0, ..Default::default() }).is_err());
    /// ```
    pub fn configure(&self, config: BreakerConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let linked = self.parent.get().map(|p| p.name());
        if let (Some(linked), Some(wanted)) = (linked, config.parent.as_deref()) {
            if linked != wanted {
                return Err(ConfigError::new(
                    "parent",
                    wanted,
                    format!("cannot change once linked (to `{linked}`)"),
                ));
            }
        }
        let mut current = self.lock_config();
        // Windows first: a call that sees a newly enabled rule must find its window.
        self.resize_windows(&current, &config);
        self.hot.live.store(&config);
        // Thresholds take effect from the next outcome, which checks the rates even if
        // it is a success.
        self.outcomes.current().recheck();
        match (&config.parent, self.parent.get()) {
            (Some(_), Some(_)) => self.hot.live.modes.fetch_or(live::PARENT, Relaxed),
            _ => self.hot.live.modes.fetch_and(!live::PARENT, Relaxed),
        };
        *current = config;
        Ok(())
    }

    /// Counts, state and configuration, for dashboards and the registry.
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// b.acquire().unwrap().record_failure();
    /// let s = b.snapshot();
    /// assert_eq!((s.name.as_str(), s.consecutive_failures), ("x", 1));
    /// ```
    pub fn snapshot(&self) -> BreakerSnapshot {
        let config = self.config();
        let word = self.load();
        let now = self.clock.now();
        let state = word.state();
        let counts = if config.failure_rate.is_some() || config.slow_call_rate.is_some() {
            self.outcomes.current().counts()
        } else {
            Counts::default()
        };
        let failures_in_window = config
            .window
            .filter(|_| config.max_failures_per_window.is_some())
            .map_or(0, |w| self.failure_times.current().recent(now, w));
        BreakerSnapshot {
            name: self.name.to_string(),
            key: None,
            state,
            consecutive_failures: if state == BreakerState::Closed {
                word.count()
            } else {
                0
            },
            failures_in_window,
            window_calls: counts.calls,
            window_failures: counts.failures,
            window_slow_calls: counts.slow,
            failure_rate_percent: percent(counts.failures, counts.calls),
            slow_call_rate_percent: percent(counts.slow, counts.calls),
            half_open_in_flight: if state == BreakerState::HalfOpen {
                word.in_flight()
            } else {
                0
            },
            half_open_successes: if state == BreakerState::HalfOpen {
                word.count()
            } else {
                0
            },
            rejections: self.stats.rejections.load(Relaxed),
            times_opened: self.stats.opened.load(Relaxed),
            retry_after: match state {
                BreakerState::Open => Some(
                    self.due(word, self.clock.now_coarse())
                        .err()
                        .flatten()
                        .unwrap_or_default(),
                ),
                _ => None,
            },
            parent: config.parent.as_deref().map(str::to_owned),
            config,
        }
    }

    /// Asks to make a call. `Ok` carries the [`Permit`] that records the call's outcome;
    /// `Err` says the call must not run.
    ///
    /// HOT PATH: through a closed breaker with neither a parent nor slow-call timing this
    /// is two loads from a read-mostly cache line, no write, no clock read.
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
        // Only scalars cross from the slow path into the permit built below, so the
        // fast path keeps everything in registers (merging two whole `Result`s made
        // the compiler round-trip the permit through the stack, costing store-forward
        // stalls on every call).
        let admit = if word.state_bits() == Word::CLOSED_BITS
            && modes & (live::PARENT | live::SLOW_RATE) == 0
        {
            Admit::permit(Kind::Closed, word.gen(), modes, 0)
        } else {
            self.acquire_slow(word, modes)
        };
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

    // ----- admission -----------------------------------------------------------------

    #[inline(never)]
    fn acquire_slow(&self, mut word: Word, modes: u8) -> Admit {
        if modes & live::PARENT != 0 && word.state() != BreakerState::Disabled {
            if let Some(refusal) = self.parent_refusal() {
                self.count_rejection();
                return refusal;
            }
        }
        loop {
            match word.state() {
                BreakerState::Closed => {
                    let start = if modes & live::SLOW_RATE != 0 {
                        self.now_nanos()
                    } else {
                        0
                    };
                    return Admit::permit(Kind::Closed, word.gen(), modes, start);
                }
                BreakerState::Disabled => return Admit::permit(Kind::Noop, 0, 0, 0),
                BreakerState::ForcedOpen => return self.refuse(BreakerState::ForcedOpen, None),
                BreakerState::Open => {
                    if let Err(left) = self.due(word, self.clock.now_coarse()) {
                        return self.refuse(BreakerState::Open, left);
                    }
                    // Due: whoever swaps open → half-open holds the first trial place.
                    let next = Word::new(BreakerState::HalfOpen, word.next_gen(), 0, 1);
                    match self.cas(word, next) {
                        Ok(()) => {
                            self.transitioned(BreakerState::Open, BreakerState::HalfOpen);
                            return Admit::permit(Kind::Trial, next.gen(), 0, 0);
                        }
                        Err(now) => word = now,
                    }
                }
                BreakerState::HalfOpen => {
                    let max = self.hot.live.half_open_max_calls.load(Relaxed);
                    if word.in_flight() >= max {
                        return self.refuse(BreakerState::HalfOpen, None);
                    }
                    match self.cas(word, word.with_in_flight(word.in_flight() + 1)) {
                        Ok(()) => return Admit::permit(Kind::Trial, word.gen(), 0, 0),
                        Err(now) => word = now,
                    }
                }
            }
        }
    }

    /// `Ok` when an open `word`'s recovery timeout has passed at `now`; otherwise the
    /// time left, if known.
    fn due(&self, word: Word, now: Duration) -> Result<(), Option<Duration>> {
        let timeout = self.hot.live.recovery_timeout.load(Relaxed);
        let d = self.hot.deadline.load(Acquire);
        if (d & GEN_MASK) as u32 != word.gen() {
            // The thread that opened it has not published the deadline yet.
            return Err(Some(Duration::from_nanos(timeout)));
        }
        let deadline = d >> DEADLINE_SHIFT;
        let now_ms = (duration_nanos(now) / 1_000_000).min(MAX_DEADLINE_MS);
        if now_ms >= deadline {
            return Ok(());
        }
        let left = deadline - now_ms;
        let timeout_ms = timeout.div_ceil(1_000_000);
        if left > timeout_ms {
            // The clock went backwards or the timeout was lowered: never wait longer
            // than one timeout from what the clock says now.
            let moved =
                ((now_ms + timeout_ms).min(MAX_DEADLINE_MS) << DEADLINE_SHIFT) | (d & GEN_MASK);
            let _ = self
                .hot
                .deadline
                .compare_exchange(d, moved, AcqRel, Acquire);
            return Err(Some(Duration::from_millis(timeout_ms)));
        }
        Err(Some(Duration::from_millis(left)))
    }

    /// The refusal of the nearest open ancestor, if any.
    fn parent_refusal(&self) -> Option<Admit> {
        let mut link = self.parent.get()?;
        for depth in 1..=MAX_PARENT_DEPTH {
            let word = link.load();
            match word.state() {
                BreakerState::ForcedOpen => {
                    return Some(Admit::refusal(BreakerState::ForcedOpen, None, depth))
                }
                BreakerState::Open => {
                    if let Err(left) = link.due(word, link.clock.now_coarse()) {
                        return Some(Admit::refusal(BreakerState::Open, left, depth));
                    }
                }
                _ => {}
            }
            if link.hot.live.modes.load(Relaxed) & live::PARENT == 0 {
                return None;
            }
            link = link.parent.get()?;
        }
        None
    }

    /// A refusal by this breaker, counted.
    fn refuse(&self, state: BreakerState, retry_after: Option<Duration>) -> Admit {
        self.count_rejection();
        Admit::refusal(state, retry_after, 0)
    }

    fn count_rejection(&self) {
        self.stats.rejections.fetch_add(1, Relaxed);
        self.metrics.rejection();
    }

    /// The breaker `depth` parent links up (`parent_refusal` found it there; links never
    /// change once made).
    #[inline]
    fn ancestor(&self, depth: u8) -> &Breaker {
        let mut link = self;
        for _ in 0..depth {
            match link.parent.get() {
                Some(parent) => link = parent,
                None => break,
            }
        }
        link
    }

    // ----- outcomes (called by Permit) -----------------------------------------------

    /// HOT PATH for a successful call through a closed breaker: in consecutive mode one
    /// load, and a write only if failures were counted since the last success; in rate
    /// mode also one add to the window's striped counter (see `window/mod.rs`).
    #[inline]
    pub(super) fn closed_success(&self, gen: u32, modes: u8, start: u64) {
        let word = self.load_relaxed();
        if modes & live::OUTCOMES != 0
            && word.state_bits() == Word::CLOSED_BITS
            && word.gen() == gen
        {
            if modes & live::SLOW_RATE != 0 {
                self.record_outcome(gen, modes, start, RECORDED);
            } else if self.outcomes.current().success() {
                self.record_outcome(gen, modes, start, CHECK_ONLY);
            }
        }
        if word.count() != 0 {
            self.clear_failures(word, gen);
        }
    }

    pub(super) fn closed_failure(&self, gen: u32, modes: u8, start: u64) {
        self.metrics.failure();
        let mut word = self.load();
        if word.state_bits() != Word::CLOSED_BITS || word.gen() != gen {
            return; // admitted in an earlier generation: no longer counts
        }
        let mut trip = false;
        if modes & live::TIME_WINDOW != 0 {
            let window = Live::duration(&self.hot.live.window);
            trip |= self
                .failure_times
                .current()
                .record(self.clock.now(), window);
        }
        if modes & live::OUTCOMES != 0 {
            trip |= self.record_outcome(gen, modes, start, RECORDED | FAILED);
        }
        let threshold = self.hot.live.failure_threshold.load(Relaxed);
        loop {
            if word.state_bits() != Word::CLOSED_BITS || word.gen() != gen {
                return;
            }
            let failures = word.count().saturating_add(1);
            let result = if trip || failures >= threshold {
                self.open(word)
            } else {
                self.cas(word, word.with_count(failures))
            };
            match result {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    /// Records into the count-based window (`CHECK_ONLY`: a success already counted
    /// there); opens the breaker (and returns true) when a rate is reached.
    #[inline(never)]
    fn record_outcome(&self, gen: u32, modes: u8, start: u64, mut outcome: u8) -> bool {
        if modes & live::SLOW_RATE != 0 && outcome != CHECK_ONLY {
            let elapsed = self.now_nanos().saturating_sub(start);
            if elapsed > self.hot.live.slow_call.load(Relaxed) {
                outcome |= SLOW;
            }
        }
        let live = &self.hot.live;
        let rates = Rates {
            minimum_calls: live.minimum_calls.load(Relaxed),
            failure_rate: (modes & live::FAILURE_RATE != 0)
                .then(|| Live::percent(&live.failure_rate)),
            slow_call_rate: (modes & live::SLOW_RATE != 0)
                .then(|| Live::percent(&live.slow_call_rate)),
        };
        let trip = self.outcomes.current().record(outcome, &rates);
        if trip && outcome & FAILED == 0 {
            // A success: the failure path is not going to open it, so open it here (again
            // if a racing failure's count moved the word; not if anything else did).
            let mut word = self.load();
            while word.state_bits() == Word::CLOSED_BITS && word.gen() == gen {
                match self.open(word) {
                    Ok(()) => break,
                    Err(now) => word = now,
                }
            }
        }
        trip
    }

    #[cold]
    fn clear_failures(&self, mut word: Word, gen: u32) {
        while word.state_bits() == Word::CLOSED_BITS && word.gen() == gen && word.count() != 0 {
            match self.cas(word, word.with_count(0)) {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    pub(super) fn trial_success(&self, gen: u32) {
        let mut word = self.load();
        let threshold = self.hot.live.success_threshold.load(Relaxed);
        while word.state() == BreakerState::HalfOpen && word.gen() == gen {
            let successes = word.count().saturating_add(1);
            let result = if successes >= threshold {
                let closed = Word::new(BreakerState::Closed, word.next_gen(), 0, 0);
                self.cas(word, closed)
                    .inspect(|()| self.transitioned(BreakerState::HalfOpen, BreakerState::Closed))
            } else {
                let in_flight = word.in_flight().saturating_sub(1);
                self.cas(word, word.with_count(successes).with_in_flight(in_flight))
            };
            match result {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    pub(super) fn trial_failure(&self, gen: u32) {
        self.metrics.failure();
        let mut word = self.load();
        while word.state() == BreakerState::HalfOpen && word.gen() == gen {
            match self.open(word) {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    /// A trial that ended without an outcome (its future was dropped): its place back.
    pub(super) fn trial_abandoned(&self, gen: u32) {
        let mut word = self.load();
        while word.state() == BreakerState::HalfOpen && word.gen() == gen {
            let in_flight = word.in_flight().saturating_sub(1);
            match self.cas(word, word.with_in_flight(in_flight)) {
                Ok(()) => return,
                Err(now) => word = now,
            }
        }
    }

    // ----- transitions ---------------------------------------------------------------

    /// Opens from `from` (closed or half-open), then publishes the deadline.
    fn open(&self, from: Word) -> Result<(), Word> {
        let next = Word::new(BreakerState::Open, from.next_gen(), 0, 0);
        self.cas(from, next)?;
        let timeout = self.hot.live.recovery_timeout.load(Relaxed);
        // On the clock `due` reads (coarse: it runs on every refused call).
        let deadline = duration_nanos(self.clock.now_coarse())
            .saturating_add(timeout)
            .div_ceil(1_000_000)
            .min(MAX_DEADLINE_MS);
        self.hot.deadline.store(
            (deadline << DEADLINE_SHIFT) | u64::from(next.gen()),
            Release,
        );
        self.stats.opened.fetch_add(1, Relaxed);
        // The windows start empty for the next closed period; nothing records into them
        // while open, so clearing now races with no current call.
        self.clear_windows();
        self.transitioned(from.state(), BreakerState::Open);
        Ok(())
    }

    fn set_state(&self, to: BreakerState) {
        let mut word = self.load();
        loop {
            match self.cas(word, Word::new(to, word.next_gen(), 0, 0)) {
                Ok(()) => break,
                Err(now) => word = now,
            }
        }
        if to == BreakerState::Closed {
            self.clear_windows();
        }
        if word.state() != to {
            self.transitioned(word.state(), to);
        }
    }

    fn clear_windows(&self) {
        self.outcomes.current().clear();
        self.failure_times.current().clear();
    }

    fn transitioned(&self, from: BreakerState, to: BreakerState) {
        crate::scope::breaker_transitioned(self, from, to);
        self.metrics.state(to);
        let (name, from, to) = (self.name, from.as_str(), to.as_str());
        if matches!(to, "open" | "forced_open") {
            tracing::warn!(target: "resilience::breaker", name, from, to, "circuit breaker state changed");
        } else {
            tracing::info!(target: "resilience::breaker", name, from, to, "circuit breaker state changed");
        }
    }

    // ----- configuration (cold) ------------------------------------------------------

    fn resize_windows(&self, old: &BreakerConfig, new: &BreakerConfig) {
        let uses_outcomes =
            |c: &BreakerConfig| c.failure_rate.is_some() || c.slow_call_rate.is_some();
        if uses_outcomes(new) && (!uses_outcomes(old) || old.window_size != new.window_size) {
            let current = self.outcomes.current();
            if new.window_size <= current.capacity() {
                current.set_len(new.window_size);
            } else {
                let room = current
                    .capacity()
                    .saturating_mul(2)
                    .min(MAX_WINDOW_LEN)
                    .max(new.window_size);
                self.outcomes.push(Outcomes::new(new.window_size, room));
            }
        }
        let max_failures = |c: &BreakerConfig| c.window.and(c.max_failures_per_window);
        if let Some(n) = max_failures(new) {
            if max_failures(old) != Some(n) {
                let current = self.failure_times.current();
                if n.saturating_sub(1) <= current.capacity() {
                    current.set_max_failures(n);
                } else {
                    let room = current
                        .capacity()
                        .saturating_mul(2)
                        .min(MAX_WINDOW_LEN)
                        .max(n);
                    self.failure_times.push(FailureTimes::new(n, room));
                }
            }
        }
    }

    // ----- cluster scope: remote transitions, applied by `crate::cluster` (cold) --------

    /// While open: the time left before a trial is let through.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn open_remaining(&self) -> Option<Duration> {
        let word = self.load();
        if word.state() != BreakerState::Open {
            return None;
        }
        Some(
            self.due(word, self.clock.now_coarse())
                .err()
                .flatten()
                .unwrap_or_default(),
        )
    }

    /// Opens (from closed or half-open) or keeps open, with the next trial `after` from
    /// now (at most the recovery timeout). False when forced open or disabled.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn apply_open(&self, after: Duration) -> bool {
        let mut word = self.load();
        loop {
            match word.state() {
                BreakerState::Open => break,
                BreakerState::Closed | BreakerState::HalfOpen => match self.open(word) {
                    Ok(()) => break,
                    Err(now) => word = now,
                },
                BreakerState::ForcedOpen | BreakerState::Disabled => return false,
            }
        }
        let word = self.load();
        if word.state() != BreakerState::Open {
            return false;
        }
        let deadline = duration_nanos(self.clock.now_coarse())
            .saturating_add(duration_nanos(after))
            .div_ceil(1_000_000)
            .min(MAX_DEADLINE_MS);
        self.hot.deadline.store(
            (deadline << DEADLINE_SHIFT) | u64::from(word.gen()),
            Release,
        );
        true
    }

    /// Closes an open or half-open breaker (its windows cleared). False otherwise.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn apply_close(&self) -> bool {
        let mut word = self.load();
        while matches!(word.state(), BreakerState::Open | BreakerState::HalfOpen) {
            match self.cas(word, Word::new(BreakerState::Closed, word.next_gen(), 0, 0)) {
                Ok(()) => {
                    self.clear_windows();
                    self.transitioned(word.state(), BreakerState::Closed);
                    return true;
                }
                Err(now) => word = now,
            }
        }
        false
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
}

/// `part` as a percentage of `whole`; `None` when `whole` is zero.
fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
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
