//! The retry engine: one policy's decisions, whatever drives it.
//!
//! It does no I/O. A front end (the attribute's generated loop, `RetryLayer`'s future,
//! the reqwest middleware) runs an attempt and tells the engine how it went, with the
//! outcome's [`Verdict`] and the time since the call began (only when `max_elapsed`
//! needs it); the engine answers "return it" (`Err(GiveUp)`) or "sleep this long, then
//! try again" (`Ok(delay)`). The schedule, the budget's withdrawals and deposits,
//! adaptive attempts, `max_elapsed`, `max_retry_after`, the deadline of a timeout around
//! the call (`crate::deadline`), a retry nested in another's attempt (`nested.rs`),
//! events and metrics are all here, so no front end can forget one or do it differently.
//! (The front ends mark their attempts, which the engine reads; it reads the deadline
//! and the mark only on a failure.)
//!
//! - [`Policy`]: a configuration made ready (its budget found in the front end's registry,
//!   its adaptive state), shared by every call of one site or layer.
//! - [`Attempts`]: one call's state, made at its first failure.

use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use super::adaptive::AdaptiveAttempts;
use super::events::{self, Via};
use super::nested::{self, Nested};
use super::schedule::{decide, GiveUp};
use super::{RetryBudget, RetryConfig};
use crate::classification::Verdict;
use crate::clock::{Clock, SystemClock};
use crate::events::Sink;
use crate::metrics::{Durations, Outcome};

/// A retry configuration made ready for calls: its name, its front end, its budget (found
/// by the front end in its registry), its adaptive state. Shared by every call of one
/// call site or layer.
pub(crate) struct Policy {
    pub(crate) name: &'static str,
    pub(crate) via: Via,
    pub(crate) config: RetryConfig,
    pub(crate) budget: Option<RetryBudget>,
    pub(crate) adaptive: Option<Arc<AdaptiveAttempts>>,
    /// Whether a success must be told somewhere (adaptive streaks, budget deposits).
    on_success: bool,
    /// Whether the instance has said (once) that it defers to an outer retry.
    told_nested: AtomicBool,
    /// The event stream of the registry the front end found it in.
    pub(crate) events: Sink,
    /// Its call and attempt duration histograms (feature `metrics`).
    durations: Durations,
}

impl Policy {
    /// A policy of a valid `config`, drawing from `budget` (the one `config.budget`
    /// names, found by the caller).
    pub(crate) fn new(
        name: &'static str,
        via: Via,
        config: RetryConfig,
        budget: Option<RetryBudget>,
    ) -> Policy {
        let adaptive = config
            .adaptive
            .then(|| Arc::new(AdaptiveAttempts::new(config.max_attempts)));
        if let Some(adaptive) = &adaptive {
            super::adapted::register(name, Arc::clone(adaptive));
        }
        // Not frozen on the budget's current deposit: it may be configured later.
        let on_success = adaptive.is_some() || budget.is_some();
        Policy {
            name,
            via,
            config,
            budget,
            adaptive,
            on_success,
            told_nested: AtomicBool::new(false),
            events: Sink::NONE,
            durations: Durations::new("retry", name),
        }
    }

    /// The same policy, sending its events through `events` (its registry's stream).
    pub(crate) fn with_events(mut self, events: Sink) -> Policy {
        self.events = events;
        self
    }

    /// The attempts a call starting now may make: `max_attempts`, or the adapted value.
    #[inline]
    pub(crate) fn max_attempts(&self) -> u32 {
        match &self.adaptive {
            Some(adaptive) => adaptive.max_attempts(),
            None => self.config.max_attempts,
        }
    }

    /// Whether the driver must tell [`Attempts::failed`] the time since the call began.
    #[inline]
    pub(crate) fn tracks_elapsed(&self) -> bool {
        self.config.max_elapsed.is_some()
    }

    /// Whether a call must read the clock as it starts: for `max_elapsed`, or to time
    /// calls and attempts (feature `metrics`). HOT PATH: a constant, or one branch.
    #[inline]
    pub(crate) fn timed(&self) -> bool {
        Durations::TIMED || self.tracks_elapsed()
    }

    /// The clock reading a call starts from, when [`timed`](Self::timed) (the tower
    /// layer's and the middleware's; the generated loop keeps its own).
    #[cfg(any(feature = "tower", feature = "reqwest"))]
    #[inline]
    pub(crate) fn start(&self) -> Option<Duration> {
        self.timed().then(|| SystemClock.now())
    }

    /// A call that started at `started` ([`start`](Self::start)) succeeded, after the
    /// failed `attempts` if any: [`succeeded`](Self::succeeded), and its durations.
    #[inline]
    pub(crate) fn succeeded_at(&self, started: Option<Duration>, attempts: Option<&Attempts>) {
        self.succeeded();
        if Durations::TIMED {
            if let Some(started) = started {
                self.timed_success(started, attempts);
            }
        }
    }

    #[inline(never)]
    fn timed_success(&self, started: Duration, attempts: Option<&Attempts>) {
        let took = SystemClock.now().saturating_sub(started);
        self.durations.call(Outcome::Success, took);
        let began = attempts.map_or(Duration::ZERO, Attempts::began);
        self.durations
            .attempt(Outcome::Success, took.saturating_sub(began));
    }

    /// Whether a call that started at `started` and succeeded at once need tell nothing:
    /// no adaptive streak or budget to hear of it, no duration to record. HOT PATH: one
    /// branch (and the `started` test, with the feature `metrics`).
    #[inline]
    pub(crate) fn quiet_success(&self, started: Option<Duration>) -> bool {
        !(self.on_success || (Durations::TIMED && started.is_some()))
    }

    /// A call succeeded. HOT PATH: one branch, unless adaptive streaks or a budget need
    /// to hear of it (then a call off the fast path).
    #[inline]
    pub(crate) fn succeeded(&self) {
        if self.on_success {
            self.record_success();
        }
    }

    #[cold]
    #[inline(never)]
    fn record_success(&self) {
        if let Some(adaptive) = &self.adaptive {
            if let Some(now) = adaptive.record_success() {
                events::adapted(self.name, self.via, now);
            }
        }
        if let Some(budget) = &self.budget {
            budget.record_success();
        }
    }

    /// Whether a call failing now leaves its retrying to a retry around it: the policy
    /// defers, and the failed attempt ran inside another retry's attempt.
    fn defers(&self) -> bool {
        self.config.nested == Nested::Defer && nested::inside_attempt()
    }

    /// A call deferred to the retry around it: said once per instance.
    fn deferred(&self) {
        if !self.told_nested.swap(true, Ordering::Relaxed) {
            events::deferred(self.name, self.via);
        }
    }

    /// A call gave up: an adaptive policy lowers its attempts after enough of these.
    fn record_give_up(&self) {
        if let Some(adaptive) = &self.adaptive {
            if let Some(now) = adaptive.record_failure() {
                events::adapted(self.name, self.via, now);
            }
        }
    }
}

/// One call's retry state: the calls made, its attempt limit, the last delay drawn.
///
/// Plain values only, so it has no drop glue: the generated code keeps an
/// `Option<Attempts>` across attempts, and a value with drop glue there would cost every
/// call a check on its way out, the first attempt's success included. It is small for the
/// same reason: a retried async function's future holds it across the sleep.
///
/// It is 40 bytes, 48 with the `metrics` feature (which times each attempt):
///
/// ```
/// assert!(std::mem::size_of::<Option<resilience::__private::Attempts>>() <= 48);
/// ```
#[derive(Clone, Debug)]
pub struct Attempts {
    /// Calls made so far, counting the one whose outcome is being handed in.
    calls: u32,
    max_attempts: u32,
    previous: Option<Duration>,
    /// The first failure's correlation id (a UUID's bytes; all zero while none), written
    /// into every later failure's context so the call keeps one id across its attempts.
    correlation: [u8; 16],
    /// When the attempt being made began, in nanoseconds since the call's start (its
    /// duration's start; feature `metrics`).
    #[cfg(feature = "metrics")]
    began: u64,
}

impl Attempts {
    /// A call that has made no attempt yet, limited to the policy's attempts now.
    pub(crate) fn starting(policy: &Policy) -> Attempts {
        Attempts {
            calls: 0,
            max_attempts: policy.max_attempts(),
            previous: None,
            correlation: [0; 16],
            #[cfg(feature = "metrics")]
            began: 0,
        }
    }

    /// When the attempt being made began, since the call's start (zero without the
    /// `metrics` feature).
    fn began(&self) -> Duration {
        #[cfg(feature = "metrics")]
        return Duration::from_nanos(self.began);
        #[cfg(not(feature = "metrics"))]
        Duration::ZERO
    }

    /// Calls made so far.
    pub(crate) fn calls(&self) -> u32 {
        self.calls
    }

    /// The attempts this call may make (fixed when it started).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The attempt just made failed (or its response asked for another): the delay
    /// before the next, or why there is none. `elapsed` is the time since the call began,
    /// given when the policy [tracks it](Policy::tracks_elapsed); `message` renders the
    /// outcome for events, only when someone listens.
    ///
    /// It retries only if every check passes, in this order: attempts left; the verdict
    /// is retryable; the call is not inside another retry's attempt (or the policy is
    /// [`Nested::Independent`]); its `retry_after` is within `max_retry_after`; the
    /// delay (jittered backoff, at least `retry_after`) ends before `max_elapsed` and
    /// before the deadline of a timeout around the call; the budget, if any, grants a
    /// token (last, so a token is spent only on a retry that will happen).
    pub(crate) fn failed(
        &mut self,
        policy: &Policy,
        verdict: &Verdict,
        elapsed: Option<Duration>,
        message: &dyn Fn() -> String,
    ) -> Result<Duration, GiveUp> {
        self.calls = self.calls.saturating_add(1);
        let decision = if self.calls >= self.max_attempts {
            Err(GiveUp::AttemptsExhausted)
        } else if !verdict.retryable {
            Err(GiveUp::NotRetryable)
        } else if policy.defers() {
            Err(GiveUp::Nested)
        } else {
            self.plan(policy, elapsed, verdict.retry_after)
        };
        #[cfg(feature = "metrics")]
        if let Some(elapsed) = elapsed {
            self.timed_failure(policy, elapsed, &decision);
        }
        match decision {
            Ok(delay) => {
                events::retrying(
                    &policy.events,
                    policy.name,
                    policy.via,
                    self.calls,
                    delay,
                    verdict,
                    message,
                );
                crate::metrics::retry(policy.name);
            }
            // Not this call's failure to recover: the outer retry has the story.
            Err(GiveUp::Nested) => policy.deferred(),
            Err(reason) => {
                policy.record_give_up();
                events::gave_up(
                    &policy.events,
                    policy.name,
                    policy.via,
                    self.calls,
                    reason,
                    verdict,
                    message,
                );
            }
        }
        decision
    }

    /// The failed attempt's duration, the call's if it gives up; the next attempt begins
    /// after the delay.
    #[cfg(feature = "metrics")]
    #[inline(never)]
    fn timed_failure(
        &mut self,
        policy: &Policy,
        elapsed: Duration,
        decision: &Result<Duration, GiveUp>,
    ) {
        policy
            .durations
            .attempt(Outcome::Failure, elapsed.saturating_sub(self.began()));
        match decision {
            Ok(delay) => self.began = crate::clock::duration_nanos(elapsed.saturating_add(*delay)),
            Err(_) => policy.durations.call(Outcome::Failure, elapsed),
        }
    }

    /// The delay before the next attempt, or why there is none. Not generic, so the
    /// decision's code exists once.
    #[inline(never)]
    fn plan(
        &mut self,
        policy: &Policy,
        elapsed: Option<Duration>,
        retry_after: Option<Duration>,
    ) -> Result<Duration, GiveUp> {
        let (delay, drawn) = decide(
            &policy.config,
            self.calls,
            self.previous,
            elapsed,
            retry_after,
            &mut super::rng::rng(),
        )?;
        // The next attempt would start at or past the deadline: the timeout around the
        // call would cut it off, and the caller would get `TimedOut` for our last error.
        if crate::deadline::remaining().is_some_and(|left| delay >= left) {
            return Err(GiveUp::Deadline);
        }
        if let Some(budget) = &policy.budget {
            if !budget.try_withdraw() {
                return Err(GiveUp::BudgetEmpty);
            }
        }
        self.previous = Some(drawn);
        Ok(delay)
    }

    /// Keeps one correlation id across the call's attempts: the first failure's id is
    /// remembered, and every later failure's context gets it back (a scope opened inside
    /// each attempt, `#[error_context]` innermost, would otherwise give each its own).
    pub(crate) fn keep_correlation(&mut self, id: &mut String) {
        if self.correlation == [0; 16] {
            if let Ok(uuid) = uuid::Uuid::try_parse(id) {
                self.correlation = *uuid.as_bytes();
            }
        } else {
            let kept = uuid::Uuid::from_bytes(self.correlation);
            id.clear();
            id.push_str(
                kept.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            );
        }
    }
}
