//! Model-based property tests of the circuit breaker.
//!
//! Random sequences of operations — successes, failures, errors `record_if` does not
//! count, slow calls, panics inside a permit's scope, dropped trials, permits held across
//! other operations, clock moves (backwards too), `reset`, `force_open`, `disable` and
//! `configure` — run against the real [`Breaker`] on a [`ManualClock`] and against
//! [`Model`], a plain reference model written from the documented semantics (API.md and
//! the breaker's rustdoc). After every step the state and every count `snapshot()` shows
//! must agree, and so must each admission and refusal.
//!
//! One property per rule set: consecutive failures only; plus a time window
//! (`window` + `max_failures_per_window`); plus the count-based window
//! (`failure_rate`, optionally `slow_call_rate`); plus the time-based window of the
//! rates (`rate_window`). Every rule set runs with an open period that may grow
//! (`recovery_factor`, `max_recovery_timeout`).
//!
//! Cases: 256 per property, or `PROPTEST_CASES`. Nothing is written to disk. A failure
//! prints the minimal failing configuration and operations, and the seed; run it again
//! with `PROPTEST_RNG_SEED=<seed> cargo test -p resilience-tests --test breaker_model --
//! --include-ignored <property>`.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Once};
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestError, TestRunner};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use resilience::breaker::Breaker;
use resilience::clock::ManualClock;
use resilience::{BreakerConfig, BreakerState, Permit};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The clock starts here, so that setting it back has room.
const START_MS: u64 = 1_000_000;
/// Permits held across other operations at most.
const MAX_HELD: usize = 3;

// =======================================================================================
// The reference model.
//
// Times are whole milliseconds (the breaker's documented resolution), so the model and
// the breaker compute the same deadlines.

/// Semantics, in the documentation's words:
/// - closed: calls go through; `failure_threshold` consecutive failures open it; so does a
///   failure making `max_failures_per_window` failures within `window`; so does any
///   outcome (a success too, as in resilience4j) recorded when the last `window_size`
///   calls (at least `minimum_calls`) reach `failure_rate` (or `slow_call_rate`) percent.
///   A call is slow when it took longer than `slow_call`. A success clears the
///   consecutive count.
/// - open: refused, with the time left, until its open period has passed since it
///   opened (and never longer than one period from what the clock says now: a clock set
///   back or a lowered timeout cannot strand it); then the first call becomes a trial
///   and the breaker half-open. It says `Open` until that call. The open period is
///   `recovery_timeout × recovery_factor^n` after `n` failed trials in a row, at most
///   `max_recovery_timeout`; an opening from closed starts again at `n = 0`.
/// - with `rate_window`, the rates are over the calls of the last 64 slices of
///   `rate_window / 64` (slice `k` is the time `[k × width, (k + 1) × width)`): the window
///   ends at the latest slice a call was recorded in (a clock set back records in it),
///   and holds the calls of the 64 slices up to it; a snapshot looks from the later of
///   that end and now.
/// - half-open: `half_open_max_calls` trials at once, others refused; `success_threshold`
///   trial successes close it, any trial failure re-opens it, a trial dropped without an
///   outcome gives its place back.
/// - forced open refuses everything; disabled admits everything and records nothing; both
///   until `reset`, which closes it with the state machine's counts and windows cleared.
/// - a permit's outcome counts only in the period (generation) that admitted it; every
///   transition, and every reset, forced open or disable, starts a new one.
/// - opening empties the windows; `configure` takes effect from the next outcome, and a
///   window whose size changed starts empty.
/// - `rejections` counts refused calls; `times_opened` counts openings by the state
///   machine; both survive `reset`.
#[derive(Debug)]
struct Model {
    config: BreakerConfig,
    now: u64,
    state: BreakerState,
    generation: u64,
    consecutive_failures: u32,
    trial_successes: u32,
    trials_in_flight: u32,
    /// Open: when the next trial is due.
    due_at: u64,
    /// Failure times since the time window was last emptied.
    failure_times: Vec<u64>,
    /// The last `window_size` calls since the count-based window was last emptied.
    outcomes: VecDeque<Outcome>,
    /// With `rate_window`: the calls since the time window was last emptied, with their
    /// slice, and the latest slice a call was recorded in.
    timed: Vec<(u64, Outcome)>,
    timed_end: u64,
    /// Failed trials in a row behind the current open period.
    strikes: u32,
    rejections: u64,
    times_opened: u64,
}

#[derive(Clone, Copy, Debug)]
struct Outcome {
    failed: bool,
    slow: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Closed,
    Trial,
    Noop,
}

/// What the model admitted.
#[derive(Clone, Copy, Debug)]
struct ModelPermit {
    kind: Kind,
    generation: u64,
    started: u64,
}

/// What the model refused with: the state and the time left, as `CircuitOpen` says.
#[derive(Debug, PartialEq)]
struct Refusal {
    state: BreakerState,
    retry_after: Option<Duration>,
}

/// Everything `snapshot()` counts.
#[derive(Debug, PartialEq)]
struct Observed {
    state: BreakerState,
    consecutive_failures: u32,
    failures_in_window: u32,
    window_calls: u32,
    window_failures: u32,
    window_slow_calls: u32,
    half_open_in_flight: u32,
    half_open_successes: u32,
    rejections: u64,
    times_opened: u64,
    retry_after: Option<Duration>,
    open_period: Duration,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).expect("test durations are small")
}

fn time_window(c: &BreakerConfig) -> Option<(u64, u32)> {
    Some((millis(c.window?), c.max_failures_per_window?))
}

fn slow_rule(c: &BreakerConfig) -> Option<(u64, f64)> {
    Some((millis(c.slow_call?), c.slow_call_rate?))
}

fn uses_rates(c: &BreakerConfig) -> bool {
    c.failure_rate.is_some() || slow_rule(c).is_some()
}

/// The count-based window is in use.
fn uses_outcomes(c: &BreakerConfig) -> bool {
    uses_rates(c) && c.rate_window.is_none()
}

/// The width of a slice of the time window, in nanoseconds, if it is in use.
fn slice_width(c: &BreakerConfig) -> Option<u64> {
    let window = u64::try_from(c.rate_window?.as_nanos()).expect("small");
    uses_rates(c).then_some(window / 64)
}

/// The open period in nanoseconds after `strikes` failed trials in a row, as documented.
fn open_period(c: &BreakerConfig, strikes: u32) -> u64 {
    let base = u64::try_from(c.recovery_timeout.as_nanos()).expect("small");
    let grown = base as f64 * c.recovery_factor.powi(strikes as i32);
    let cap = c
        .max_recovery_timeout
        .map_or(f64::INFINITY, |d| d.as_nanos() as f64);
    if grown >= cap {
        cap as u64
    } else {
        grown as u64
    }
}

impl Model {
    fn new(config: BreakerConfig, now: u64) -> Model {
        Model {
            config,
            now,
            state: BreakerState::Closed,
            generation: 0,
            consecutive_failures: 0,
            trial_successes: 0,
            trials_in_flight: 0,
            due_at: 0,
            failure_times: Vec::new(),
            outcomes: VecDeque::new(),
            timed: Vec::new(),
            timed_end: 0,
            strikes: 0,
            rejections: 0,
            times_opened: 0,
        }
    }

    /// A new period in `state`, with its counts at zero.
    fn enter(&mut self, state: BreakerState) {
        self.state = state;
        self.generation += 1;
        self.consecutive_failures = 0;
        self.trial_successes = 0;
        self.trials_in_flight = 0;
    }

    fn empty_windows(&mut self) {
        self.failure_times.clear();
        self.outcomes.clear();
        self.timed.clear();
    }

    /// `trial_failed`: from half-open, after a failed trial; otherwise from closed.
    fn open(&mut self, trial_failed: bool) {
        self.strikes = if trial_failed { self.strikes + 1 } else { 0 };
        self.enter(BreakerState::Open);
        self.due_at = self.now + self.period_ms();
        self.times_opened += 1;
        self.empty_windows();
    }

    /// The current open period, in whole milliseconds (rounded up, as deadlines are).
    fn period_ms(&self) -> u64 {
        open_period(&self.config, self.strikes).div_ceil(1_000_000)
    }

    /// Never more than one open period away from what the clock says now.
    fn bound_wait(&mut self) {
        let period = self.period_ms();
        if self.state == BreakerState::Open && self.due_at > self.now + period {
            self.due_at = self.now + period;
        }
    }

    fn refuse(&mut self, state: BreakerState, retry_after: Option<Duration>) -> Refusal {
        self.rejections += 1;
        Refusal { state, retry_after }
    }

    fn acquire(&mut self) -> Result<ModelPermit, Refusal> {
        let permit = |kind, generation, started| ModelPermit {
            kind,
            generation,
            started,
        };
        match self.state {
            BreakerState::Closed => Ok(permit(Kind::Closed, self.generation, self.now)),
            BreakerState::Disabled => Ok(permit(Kind::Noop, self.generation, self.now)),
            BreakerState::ForcedOpen => Err(self.refuse(BreakerState::ForcedOpen, None)),
            BreakerState::Open => {
                self.bound_wait();
                if self.now >= self.due_at {
                    self.enter(BreakerState::HalfOpen);
                    self.trials_in_flight = 1;
                    Ok(permit(Kind::Trial, self.generation, self.now))
                } else {
                    let left = ms(self.due_at - self.now);
                    Err(self.refuse(BreakerState::Open, Some(left)))
                }
            }
            BreakerState::HalfOpen => {
                if self.trials_in_flight < self.config.half_open_max_calls {
                    self.trials_in_flight += 1;
                    Ok(permit(Kind::Trial, self.generation, self.now))
                } else {
                    Err(self.refuse(BreakerState::HalfOpen, None))
                }
            }
        }
    }

    /// Whether `p`'s outcome still counts, in `state`.
    fn counts(&self, p: ModelPermit, state: BreakerState) -> bool {
        self.state == state && self.generation == p.generation
    }

    fn is_slow(&self, p: ModelPermit) -> bool {
        slow_rule(&self.config).is_some_and(|(limit, _)| self.now.saturating_sub(p.started) > limit)
    }

    /// The calls of the time window as seen from `end`: those of the 64 slices up to it.
    fn timed_at(&self, end: u64) -> impl Iterator<Item = &Outcome> {
        self.timed
            .iter()
            .filter(move |(slice, _)| *slice + 64 > end)
            .map(|(_, o)| o)
    }

    /// The slice of the time window a call recorded now falls in.
    fn slice_now(&self, width: u64) -> u64 {
        (self.now * 1_000_000 / width).max(self.timed_end)
    }

    /// Adds a call to the window of the rates; true when a rate opens the breaker.
    fn record_outcome(&mut self, outcome: Outcome) -> bool {
        let window: Vec<Outcome> = if let Some(width) = slice_width(&self.config) {
            let slice = self.slice_now(width);
            self.timed_end = slice;
            self.timed.push((slice, outcome));
            self.timed_at(slice).copied().collect()
        } else {
            self.outcomes.push_back(outcome);
            while self.outcomes.len() > self.config.window_size as usize {
                self.outcomes.pop_front();
            }
            self.outcomes.iter().copied().collect()
        };
        // Rates are checked at every recorded outcome, success included.
        let calls = window.len() as u32;
        if calls < self.config.minimum_calls {
            return false;
        }
        let failures = window.iter().filter(|o| o.failed).count() as u32;
        let slow = window.iter().filter(|o| o.slow).count() as u32;
        let reached = |count: u32, rate: f64| {
            count > 0 && f64::from(count) * 100.0 >= rate * f64::from(calls)
        };
        self.config
            .failure_rate
            .is_some_and(|r| reached(failures, r))
            || slow_rule(&self.config).is_some_and(|(_, r)| reached(slow, r))
    }

    fn success(&mut self, p: ModelPermit) {
        match p.kind {
            Kind::Noop => {}
            Kind::Trial => {
                if self.counts(p, BreakerState::HalfOpen) {
                    self.trial_successes += 1;
                    if self.trial_successes >= self.config.success_threshold {
                        self.enter(BreakerState::Closed);
                    } else {
                        self.trials_in_flight -= 1;
                    }
                }
            }
            Kind::Closed => {
                if self.counts(p, BreakerState::Closed) {
                    if uses_rates(&self.config) {
                        let slow = self.is_slow(p);
                        if self.record_outcome(Outcome {
                            failed: false,
                            slow,
                        }) {
                            self.open(false);
                            return;
                        }
                    }
                    self.consecutive_failures = 0;
                }
            }
        }
    }

    fn failure(&mut self, p: ModelPermit) {
        match p.kind {
            Kind::Noop => {}
            Kind::Trial => {
                if self.counts(p, BreakerState::HalfOpen) {
                    self.open(true);
                }
            }
            Kind::Closed => {
                if !self.counts(p, BreakerState::Closed) {
                    return;
                }
                let mut opens = false;
                if let Some((window, max)) = time_window(&self.config) {
                    self.failure_times.push(self.now);
                    // The oldest of the last `max` failures, this one included, is younger
                    // than the window (a time after `now` — the clock was set back — is
                    // as young as can be).
                    let n = self.failure_times.len();
                    if n >= max as usize {
                        let oldest = self.failure_times[n - max as usize];
                        opens |= self.now.saturating_sub(oldest) < window;
                    }
                }
                if uses_rates(&self.config) {
                    let slow = self.is_slow(p);
                    opens |= self.record_outcome(Outcome { failed: true, slow });
                }
                self.consecutive_failures += 1;
                if opens || self.consecutive_failures >= self.config.failure_threshold {
                    self.open(false);
                }
            }
        }
    }

    /// A permit dropped without an outcome (and not by a panic).
    fn abandon(&mut self, p: ModelPermit) {
        if p.kind == Kind::Trial && self.counts(p, BreakerState::HalfOpen) {
            self.trials_in_flight -= 1;
        }
    }

    fn reset(&mut self) {
        self.enter(BreakerState::Closed);
        self.empty_windows();
    }

    fn configure(&mut self, config: BreakerConfig) {
        let old = std::mem::replace(&mut self.config, config);
        let new = &self.config;
        if let Some((_, max)) = time_window(new) {
            if time_window(&old).map(|(_, m)| m) != Some(max) {
                self.failure_times.clear();
            }
        }
        if uses_outcomes(new) && (!uses_outcomes(&old) || old.window_size != new.window_size) {
            self.outcomes.clear();
        }
        let window = |c: &BreakerConfig| slice_width(c).and(c.rate_window);
        if window(new).is_some() && window(&old) != window(new) {
            self.timed.clear();
            self.timed_end = 0;
        }
    }

    fn observe(&mut self) -> Observed {
        self.bound_wait();
        let in_state = |s: BreakerState, n: u32| if self.state == s { n } else { 0 };
        let failures_in_window = time_window(&self.config).map_or(0, |(window, max)| {
            let kept = self.failure_times.len().min(max as usize - 1);
            self.failure_times[self.failure_times.len() - kept..]
                .iter()
                .filter(|&&t| self.now.saturating_sub(t) < window)
                .count() as u32
        });
        let window: Vec<Outcome> = match slice_width(&self.config) {
            Some(width) => self.timed_at(self.slice_now(width)).copied().collect(),
            None if uses_outcomes(&self.config) => self.outcomes.iter().copied().collect(),
            None => Vec::new(),
        };
        let count = |f: fn(&Outcome) -> bool| window.iter().filter(|o| f(o)).count() as u32;
        let (calls, failures, slow) = (window.len() as u32, count(|o| o.failed), count(|o| o.slow));
        let open_period = match self.state {
            BreakerState::Open => Duration::from_nanos(open_period(&self.config, self.strikes)),
            BreakerState::HalfOpen => {
                Duration::from_nanos(open_period(&self.config, self.strikes + 1))
            }
            _ => self.config.recovery_timeout,
        };
        Observed {
            state: self.state,
            consecutive_failures: in_state(BreakerState::Closed, self.consecutive_failures),
            failures_in_window,
            window_calls: calls,
            window_failures: failures,
            window_slow_calls: slow,
            half_open_in_flight: in_state(BreakerState::HalfOpen, self.trials_in_flight),
            half_open_successes: in_state(BreakerState::HalfOpen, self.trial_successes),
            rejections: self.rejections,
            times_opened: self.times_opened,
            retry_after: (self.state == BreakerState::Open)
                .then(|| ms(self.due_at.saturating_sub(self.now))),
            open_period,
        }
    }
}

// =======================================================================================
// Operations, and running them against both.

#[derive(Clone, Debug)]
enum Op {
    Success,
    Failure,
    /// An error that `record_if` does not count: a success.
    Ignored,
    /// A call that takes `ms` on the clock, then succeeds or fails.
    Slow {
        ms: u64,
        fails: bool,
    },
    /// A panic inside the permit's scope: a failure, and the panic goes on.
    Panic,
    /// Acquired, then dropped without an outcome (a cancelled future).
    Dropped,
    Advance(u64),
    /// Sets the clock back by this much.
    Back(u64),
    Reset,
    ForceOpen,
    Disable,
    Configure(BreakerConfig),
    /// Acquires a permit and keeps it across the next operations.
    Hold,
    /// Ends a held permit (index modulo the number held).
    Release(usize, End),
}

#[derive(Clone, Copy, Debug)]
enum End {
    Success,
    Failure,
    Dropped,
    Panic,
}

/// The payload of the panics these tests cause on purpose (kept quiet).
struct Simulated;

fn quiet_simulated_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<Simulated>() {
                default(info);
            }
        }));
    });
}

/// Drops `permit` while a panic unwinds, as a panicking body does.
fn panic_with(permit: Permit<'_>) -> Result<(), TestCaseError> {
    let unwound = panic::catch_unwind(AssertUnwindSafe(move || {
        let _permit = permit;
        panic::panic_any(Simulated);
    }));
    prop_assert!(unwound.is_err(), "the panic unwinds to the caller");
    Ok(())
}

struct Harness<'b> {
    breaker: &'b Breaker,
    clock: ManualClock,
    model: Model,
    held: Vec<(Permit<'b>, ModelPermit)>,
}

impl<'b> Harness<'b> {
    /// Asks both; they must agree on admitting, on the kind of permit and on the refusal.
    fn acquire(&mut self) -> Result<Option<(Permit<'b>, ModelPermit)>, TestCaseError> {
        match (self.breaker.acquire(), self.model.acquire()) {
            (Ok(permit), Ok(expected)) => {
                prop_assert_eq!(permit.is_trial(), expected.kind == Kind::Trial);
                Ok(Some((permit, expected)))
            }
            (Err(open), Err(expected)) => {
                let got = Refusal {
                    state: open.state,
                    retry_after: open.retry_after,
                };
                prop_assert_eq!(got, expected);
                prop_assert_eq!(open.name, self.breaker.name());
                Ok(None)
            }
            (Ok(_), Err(expected)) => Err(TestCaseError::fail(format!(
                "admitted; the model refuses with {expected:?}"
            ))),
            (Err(open), Ok(expected)) => Err(TestCaseError::fail(format!(
                "refused with {open:?}; the model admits a {:?} permit",
                expected.kind
            ))),
        }
    }

    fn set_clock(&mut self, now: u64) {
        self.clock.set(ms(now));
        self.model.now = now;
    }

    fn end(
        &mut self,
        permit: Permit<'b>,
        expected: ModelPermit,
        end: End,
    ) -> Result<(), TestCaseError> {
        match end {
            End::Success => {
                permit.record_success();
                self.model.success(expected);
            }
            End::Failure => {
                permit.record(&Err::<(), _>("down"), |_| true);
                self.model.failure(expected);
            }
            End::Dropped => {
                drop(permit);
                self.model.abandon(expected);
            }
            End::Panic => {
                panic_with(permit)?;
                self.model.failure(expected);
            }
        }
        Ok(())
    }

    fn call(&mut self, end: End) -> Result<(), TestCaseError> {
        if let Some((permit, expected)) = self.acquire()? {
            self.end(permit, expected, end)?;
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Success => self.call(End::Success)?,
            Op::Failure => self.call(End::Failure)?,
            Op::Panic => self.call(End::Panic)?,
            Op::Dropped => self.call(End::Dropped)?,
            Op::Ignored => {
                if let Some((permit, expected)) = self.acquire()? {
                    permit.record(&Err::<(), _>("not found"), |e| *e != "not found");
                    self.model.success(expected);
                }
            }
            Op::Slow { ms: took, fails } => {
                if let Some((permit, expected)) = self.acquire()? {
                    self.set_clock(self.model.now + took);
                    let end = if *fails { End::Failure } else { End::Success };
                    self.end(permit, expected, end)?;
                }
            }
            Op::Advance(by) => self.set_clock(self.model.now + by),
            Op::Back(by) => self.set_clock(self.model.now.saturating_sub(*by)),
            Op::Reset => {
                self.breaker.reset();
                self.model.reset();
            }
            Op::ForceOpen => {
                self.breaker.force_open();
                self.model.enter(BreakerState::ForcedOpen);
            }
            Op::Disable => {
                self.breaker.disable();
                self.model.enter(BreakerState::Disabled);
            }
            Op::Configure(config) => {
                let applied = self.breaker.configure(config.clone());
                prop_assert!(applied.is_ok(), "a valid config was refused: {:?}", applied);
                self.model.configure(config.clone());
            }
            Op::Hold => {
                if self.held.len() < MAX_HELD {
                    if let Some(held) = self.acquire()? {
                        self.held.push(held);
                    }
                }
            }
            Op::Release(index, end) => {
                if !self.held.is_empty() {
                    let (permit, expected) = self.held.remove(index % self.held.len());
                    self.end(permit, expected, *end)?;
                }
            }
        }
        Ok(())
    }

    fn check(&mut self, after: &dyn Debug) -> Result<(), TestCaseError> {
        let s = self.breaker.snapshot();
        let got = Observed {
            state: s.state,
            consecutive_failures: s.consecutive_failures,
            failures_in_window: s.failures_in_window,
            window_calls: s.window_calls,
            window_failures: s.window_failures,
            window_slow_calls: s.window_slow_calls,
            half_open_in_flight: s.half_open_in_flight,
            half_open_successes: s.half_open_successes,
            rejections: s.rejections,
            times_opened: s.times_opened,
            retry_after: s.retry_after,
            open_period: s.open_period,
        };
        let expected = self.model.observe();
        prop_assert_eq!(&got, &expected, "after {:?}", after);
        prop_assert_eq!(self.breaker.state(), expected.state);
        Ok(())
    }
}

/// Runs `ops` from `config` against the breaker and the model, comparing after each step.
fn run(case: (BreakerConfig, Vec<Op>)) -> Result<(), TestCaseError> {
    run_snapshotting(case, 1)
}

/// As [`run`], reading the breaker's snapshot only every `every` steps (and at the end),
/// its state after every step: a snapshot takes in the successes the rate window has
/// counted on its stripes, so this lets successes pile up between the failures and
/// checks that take them in.
fn run_snapshotting(
    (config, ops): (BreakerConfig, Vec<Op>),
    every: usize,
) -> Result<(), TestCaseError> {
    let clock = ManualClock::new();
    clock.set(ms(START_MS));
    let breaker = Breaker::new("model", config.clone())
        .map_err(|e| TestCaseError::fail(format!("a valid config was refused: {e}")))?
        .with_clock(Arc::new(clock.clone()));
    let mut h = Harness {
        breaker: &breaker,
        clock,
        model: Model::new(config, START_MS),
        held: Vec::new(),
    };
    h.check(&"creation")?;
    for (step, op) in ops.iter().enumerate() {
        h.apply(op)?;
        if step % every == 0 {
            h.check(&format_args!("step {step}: {op:?}"))?;
        } else {
            // Not `observe`, which bounds an open breaker's wait as the breaker's
            // snapshot does (and `state()` does not).
            prop_assert_eq!(
                h.breaker.state(),
                h.model.state,
                "after step {}: {:?}",
                step,
                op
            );
        }
    }
    h.check(&"the last step")?;
    // Permits still held are dropped, as a cancelled call's would be.
    while let Some((permit, expected)) = h.held.pop() {
        h.end(permit, expected, End::Dropped)?;
        h.check(&"dropping a held permit at the end")?;
    }
    Ok(())
}

// =======================================================================================
// Strategies.

/// Milliseconds in `min ..= max`; half the time a multiple of 250, so that sums of
/// steps land exactly on timeouts and windows and the boundaries get tested.
fn millis_in(min: u64, max: u64) -> BoxedStrategy<u64> {
    prop_oneof![
        (min.div_ceil(250)..=max / 250).prop_map(|k| k * 250),
        min..=max,
    ]
    .boxed()
}

/// An open period that stays at `recovery_timeout` half the time, and otherwise grows
/// by a factor, capped or not: `(factor, cap as a multiple of the timeout)`.
fn growth() -> BoxedStrategy<(f64, Option<u32>)> {
    prop_oneof![
        Just((1.0, None)),
        (
            prop_oneof![Just(1.5), Just(2.0), Just(3.0), 1.0f64..4.0],
            prop::option::of(1u32..=4)
        ),
    ]
    .boxed()
}

/// Thresholds and timing shared by every rule set.
fn consecutive_config() -> BoxedStrategy<BreakerConfig> {
    (1u32..=6, 1u32..=4, 1u32..=3, millis_in(1, 3_000), growth())
        .prop_map(|(f, s, h, t, (factor, cap))| BreakerConfig {
            failure_threshold: f,
            success_threshold: s,
            half_open_max_calls: h,
            recovery_timeout: ms(t),
            recovery_factor: factor,
            // A cap only where the period grows (a cap on a factor of 1 is refused).
            max_recovery_timeout: cap.filter(|_| factor > 1.0).map(|k| ms(t) * k),
            ..BreakerConfig::default()
        })
        .boxed()
}

fn time_window_config() -> BoxedStrategy<BreakerConfig> {
    (consecutive_config(), millis_in(1, 5_000), 1u32..=5)
        .prop_map(|(c, window, max)| BreakerConfig {
            // Often high, so the window is what opens it.
            failure_threshold: c.failure_threshold * 3,
            window: Some(ms(window)),
            max_failures_per_window: Some(max),
            ..c
        })
        .boxed()
}

fn percent() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(50.0),
        Just(100.0),
        (0u32..=100).prop_map(f64::from),
        0.0f64..=100.0,
    ]
}

/// `slow`: whether the slow-call rule is on (fixed for a whole case, so a permit is
/// always judged under the rule set that admitted it).
fn rate_config(slow: bool) -> BoxedStrategy<BreakerConfig> {
    let slow_rule = if slow {
        (millis_in(1, 500), percent())
            .prop_map(|(d, r)| Some((ms(d), r)))
            .boxed()
    } else {
        Just(None).boxed()
    };
    (
        consecutive_config(),
        1u32..=8,
        any::<prop::sample::Index>(),
        percent(),
        slow_rule,
    )
        .prop_map(|(c, size, min, rate, slow)| BreakerConfig {
            failure_threshold: c.failure_threshold * 3,
            failure_rate: Some(rate),
            window_size: size,
            minimum_calls: 1 + min.index(size as usize) as u32,
            slow_call: slow.map(|(d, _)| d),
            slow_call_rate: slow.map(|(_, r)| r),
            ..c
        })
        .boxed()
}

/// The rates over a time window of 1 to 20 s (slices of 15.6 to 312.5 ms), so the
/// clock's steps (up to 4 s) cross slices and leave the window, and set it back.
fn time_rate_config(slow: bool) -> BoxedStrategy<BreakerConfig> {
    (rate_config(slow), millis_in(1_000, 20_000), 1u32..=12)
        .prop_map(|(c, window, min)| BreakerConfig {
            rate_window: Some(ms(window)),
            window_size: BreakerConfig::default().window_size,
            minimum_calls: min,
            ..c
        })
        .boxed()
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Success),
        Just(End::Failure),
        Just(End::Dropped),
        Just(End::Panic)
    ]
}

/// A starting configuration and operations whose reconfigurations come from `config`.
fn case(config: BoxedStrategy<BreakerConfig>) -> impl Strategy<Value = (BreakerConfig, Vec<Op>)> {
    let op = prop_oneof![
        12 => Just(Op::Success),
        12 => Just(Op::Failure),
        2 => Just(Op::Ignored),
        4 => (millis_in(0, 1_000), any::<bool>()).prop_map(|(ms, fails)| Op::Slow { ms, fails }),
        2 => Just(Op::Panic),
        3 => Just(Op::Dropped),
        8 => millis_in(0, 4_000).prop_map(Op::Advance),
        2 => millis_in(0, 5_000).prop_map(Op::Back),
        // Forced open and disabled last until a reset: rarer, so most steps run the
        // state machine.
        4 => Just(Op::Reset),
        1 => Just(Op::ForceOpen),
        1 => Just(Op::Disable),
        2 => config.clone().prop_map(Op::Configure),
        4 => Just(Op::Hold),
        4 => (any::<usize>(), end()).prop_map(|(i, e)| Op::Release(i, e)),
    ];
    (config, vec(op, 1..150))
}

/// Runs a property with a fixed number of cases and a known seed, printing the seed and
/// the minimal failing input on failure.
fn check<S>(property: &str, strategy: S)
where
    S: Strategy<Value = (BreakerConfig, Vec<Op>)>,
{
    check_with(property, strategy, run)
}

fn check_with<S>(
    property: &str,
    strategy: S,
    run: impl Fn((BreakerConfig, Vec<Op>)) -> Result<(), TestCaseError>,
) where
    S: Strategy<Value = (BreakerConfig, Vec<Op>)>,
{
    quiet_simulated_panics();
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = env("PROPTEST_CASES").map_or(256, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let seed = env("PROPTEST_RNG_SEED").unwrap_or_else(|| SmallRng::from_os_rng().next_u64());
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    };
    match TestRunner::new(config).run(&strategy, run) {
        Ok(()) => {}
        Err(TestError::Fail(why, (config, ops))) => panic!(
            "{property}: the breaker and the model disagree: {why}\n\
             minimal case:\n  config: {config:?}\n  ops: {ops:#?}\n\
             seed {seed}: PROPTEST_RNG_SEED={seed} cargo test -p resilience-tests \
             --test breaker_model -- --include-ignored {property}"
        ),
        Err(TestError::Abort(why)) => panic!("{property}: aborted: {why} (seed {seed})"),
    }
}

// =======================================================================================
// The properties.

#[test]
fn consecutive_failures_agree_with_the_model() {
    check(
        "consecutive_failures_agree_with_the_model",
        case(consecutive_config()),
    );
}

#[test]
fn time_window_agrees_with_the_model() {
    check(
        "time_window_agrees_with_the_model",
        case(time_window_config()),
    );
}

#[test]
fn failure_rate_agrees_with_the_model() {
    check(
        "failure_rate_agrees_with_the_model",
        any::<bool>().prop_flat_map(|slow| case(rate_config(slow))),
    );
}

/// The same with the snapshot read only every 16 steps, so the window takes in piles of
/// successes at once (and checks the one that makes up `minimum_calls` among them).
#[test]
fn failure_rate_agrees_with_the_model_between_snapshots() {
    check_with(
        "failure_rate_agrees_with_the_model_between_snapshots",
        any::<bool>().prop_flat_map(|slow| case(rate_config(slow))),
        |case| run_snapshotting(case, 16),
    );
}

#[test]
fn time_based_rates_agree_with_the_model() {
    check(
        "time_based_rates_agree_with_the_model",
        any::<bool>().prop_flat_map(|slow| case(time_rate_config(slow))),
    );
}

/// The same with the snapshot read only every 16 steps (a snapshot never moves the time
/// window, but it reads the successes piled up on its stripes).
#[test]
fn time_based_rates_agree_with_the_model_between_snapshots() {
    check_with(
        "time_based_rates_agree_with_the_model_between_snapshots",
        any::<bool>().prop_flat_map(|slow| case(time_rate_config(slow))),
        |case| run_snapshotting(case, 16),
    );
}

// =======================================================================================
// The rates at every recorded outcome (issue 16, item 5), and the window under threads.

fn rate_breaker(name: &str, config: BreakerConfig) -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let b = Breaker::new(name, config)
        .expect("valid")
        .with_clock(Arc::new(clock.clone()));
    (b, clock)
}

/// resilience4j's count-based window: F F F S S over a window of 5 at 50 % opens on the
/// fifth call, a success, the one that brings the window to `minimum_calls`. (Before:
/// the rate was checked only when a failure was recorded, and it stayed closed.)
#[test]
fn a_success_that_makes_up_minimum_calls_opens_at_the_rate() {
    let (b, _) = rate_breaker(
        "rate.fffss",
        BreakerConfig {
            failure_rate: Some(50.0),
            minimum_calls: 5,
            window_size: 5,
            failure_threshold: 100,
            ..BreakerConfig::default()
        },
    );
    for _ in 0..3 {
        b.acquire().expect("closed").record_failure();
    }
    b.acquire().expect("closed").record_success();
    assert_eq!(
        b.state(),
        BreakerState::Closed,
        "4 calls: under minimum_calls"
    );
    b.acquire().expect("closed").record_success();
    assert_eq!(b.state(), BreakerState::Open, "3 failures in 5 calls");
    assert_eq!(b.snapshot().times_opened, 1);
}

/// A slow success and a plain one are checked alike (before: only the slow one was).
#[test]
fn a_plain_success_is_checked_as_a_slow_one_is() {
    let config = BreakerConfig {
        failure_rate: Some(50.0),
        minimum_calls: 2,
        window_size: 2,
        slow_call: Some(ms(10)),
        slow_call_rate: Some(100.0),
        failure_threshold: 100,
        ..BreakerConfig::default()
    };
    for slow in [false, true] {
        let (b, clock) = rate_breaker("rate.slow-or-not", config.clone());
        b.acquire().expect("closed").record_failure(); // 1 call: under minimum_calls
        let permit = b.acquire().expect("closed");
        if slow {
            clock.advance(ms(20));
        }
        permit.record_success(); // [failure, success]: 50 % failed
        assert_eq!(b.state(), BreakerState::Open, "slow: {slow}");
    }
}

/// `configure` takes effect from the next outcome, a success included: lowering the
/// rate to where the window already stands opens the breaker at the next success.
#[test]
fn a_lowered_rate_opens_at_the_next_success() {
    let config = BreakerConfig {
        failure_rate: Some(60.0),
        minimum_calls: 2,
        window_size: 2,
        failure_threshold: 100,
        ..BreakerConfig::default()
    };
    let (b, _) = rate_breaker(
        "rate.lowered-4",
        BreakerConfig {
            window_size: 4,
            minimum_calls: 4,
            ..config.clone()
        },
    );
    for ok in [true, true, false, false] {
        let p = b.acquire().expect("closed");
        if ok {
            p.record_success()
        } else {
            p.record_failure()
        }
    } // [S, S, F, F]: 50 % < 60 %
    assert_eq!(b.state(), BreakerState::Closed);
    b.configure(BreakerConfig {
        window_size: 4,
        minimum_calls: 4,
        failure_rate: Some(50.0),
        ..config
    })
    .expect("valid");
    b.acquire().expect("closed").record_success(); // [S, F, F, S]: 50 %
    assert_eq!(b.state(), BreakerState::Open);
}

/// Many threads' successes land on striped counters; none is lost and none counted
/// twice: after failures, then successes from four threads at once, the window holds
/// exactly what the calls leave in it.
#[test]
fn successes_from_many_threads_are_all_taken_in() {
    const THREADS: u32 = 4;
    const EACH: u32 = 20;
    let (b, _) = rate_breaker(
        "rate.threads",
        BreakerConfig {
            failure_rate: Some(100.0),
            minimum_calls: 1,
            window_size: 100,
            failure_threshold: 1_000,
            ..BreakerConfig::default()
        },
    );
    b.acquire().expect("closed").record_success();
    for _ in 0..30 {
        b.acquire().expect("closed").record_failure();
    }
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..EACH {
                    b.acquire().expect("closed").record_success();
                }
            });
        }
    });
    let s = b.snapshot();
    // 1 + 30 + 80 = 111 calls: the last 100 are 20 failures and 80 successes.
    assert_eq!(
        (s.state, s.window_calls, s.window_failures),
        (BreakerState::Closed, 100, 20)
    );
    b.acquire().expect("closed").record_failure();
    assert_eq!(b.snapshot().window_failures, 20, "one failure in, one out");
}
