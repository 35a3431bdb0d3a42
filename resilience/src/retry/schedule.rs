//! [`Schedule`]: the pure arithmetic of a retry policy — which delay before which retry,
//! and when to give up — with the randomness and the time passed in, so it is tested
//! without sleeping.

use std::fmt;
use std::time::Duration;

use rand::Rng;

use super::{Backoff, Jitter, RetryConfig};

/// Why a call stopped retrying and returned its last error.
///
/// ```
/// use resilience::retry::GiveUp;
/// assert_eq!(GiveUp::BudgetEmpty.as_str(), "budget empty");
/// assert_eq!(GiveUp::MaxElapsed.to_string(), "max_elapsed reached");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GiveUp {
    /// `max_attempts` calls were made.
    AttemptsExhausted,
    /// The error is not retryable (by `retry_if`, or by `MarcusError::retryable`).
    NotRetryable,
    /// The shared retry budget had no token left.
    BudgetEmpty,
    /// The next attempt would start at or after `max_elapsed`.
    MaxElapsed,
    /// The error asked to wait longer than `max_retry_after`.
    RetryAfterTooLong,
    /// The next attempt would start at or past the deadline of a `#[timeout]` or
    /// `TimeoutLayer` around the call (see [`deadline`](crate::deadline)).
    Deadline,
    /// The call runs inside another retry's attempt ([`Nested::Defer`](super::Nested)):
    /// that retry decides.
    Nested,
}

impl GiveUp {
    /// A short, stable description, used as the `reason` field of tracing events.
    ///
    /// ```
    /// assert_eq!(resilience::retry::GiveUp::AttemptsExhausted.as_str(), "attempts exhausted");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            GiveUp::AttemptsExhausted => "attempts exhausted",
            GiveUp::NotRetryable => "not retryable",
            GiveUp::BudgetEmpty => "budget empty",
            GiveUp::MaxElapsed => "max_elapsed reached",
            GiveUp::RetryAfterTooLong => "retry_after over max_retry_after",
            GiveUp::Deadline => "deadline",
            GiveUp::Nested => "nested in another retry",
        }
    }
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The delays of one retrying call, computed from a [`RetryConfig`] (see
/// [`RetryConfig::schedule`]).
///
/// The delay before retry `n` is the backoff's [`delay(n)`](Backoff::delay), randomised by
/// the [`Jitter`], capped at the backoff's [`cap`](Backoff::cap), then raised to the error's
/// `retry_after` if that is longer: the server asked, so its wait may exceed the cap.
/// No retry is granted once `max_attempts` calls were made, nor one whose delay would
/// end at or after `max_elapsed` (counted from the start of the first call).
///
/// As an [`Iterator`] it yields the delays of a run whose calls fail instantly (the
/// elapsed time is the sum of the delays so far), which makes properties easy to state:
///
/// ```
/// use rand::{rngs::SmallRng, SeedableRng};
/// use resilience::retry::{Backoff, Jitter};
/// use resilience::RetryConfig;
/// use std::time::Duration;
///
/// let config = RetryConfig {
///     max_attempts: 10,
///     backoff: Backoff::Fixed(Duration::from_secs(1)),
///     jitter: Jitter::None,
///     max_elapsed: Some(Duration::from_millis(3500)),
///     ..Default::default()
/// };
/// // Attempts start at 0 s, 1 s, 2 s, 3 s; one at 4 s would be past max_elapsed.
/// assert_eq!(config.schedule(SmallRng::seed_from_u64(1)).count(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct Schedule<R> {
    config: RetryConfig,
    retries: u32,
    previous: Option<Duration>,
    slept: Duration,
    rng: R,
}

/// The schedule a policy makes: here, beside the schedule, so a policy's file does not
/// depend on this one.
impl RetryConfig {
    /// The pure delay schedule of this policy, drawing jitter from `rng`.
    ///
    /// See [`Schedule`]: as an iterator it yields the delays of a run whose calls fail
    /// instantly; [`Schedule::next_delay`] takes the elapsed time and an error's
    /// `retry_after`.
    ///
    /// ```
    /// use rand::{rngs::SmallRng, SeedableRng};
    /// use resilience::retry::Jitter;
    /// use resilience::RetryConfig;
    /// use std::time::Duration;
    ///
    /// let config = RetryConfig { jitter: Jitter::None, max_attempts: 4, ..Default::default() };
    /// let delays: Vec<_> = config.schedule(SmallRng::seed_from_u64(0)).collect();
    /// assert_eq!(delays, [1, 2, 4].map(Duration::from_secs));
    /// ```
    pub fn schedule<R: Rng>(&self, rng: R) -> Schedule<R> {
        Schedule::new(self, rng)
    }
}

impl<R: Rng> Schedule<R> {
    pub(crate) fn new(config: &RetryConfig, rng: R) -> Self {
        Schedule {
            config: config.clone(),
            retries: 0,
            previous: None,
            slept: Duration::ZERO,
            rng,
        }
    }

    /// The delay before the next retry, after a failure `elapsed` after the first call
    /// began, from an error that asked to wait `retry_after`; or why not to retry.
    ///
    /// A refusal does not advance the schedule.
    ///
    /// ```
    /// use rand::{rngs::SmallRng, SeedableRng};
    /// use resilience::retry::{Backoff, GiveUp, Jitter};
    /// use resilience::RetryConfig;
    /// use std::time::Duration;
    ///
    /// let s = Duration::from_secs;
    /// let config = RetryConfig {
    ///     backoff: Backoff::Fixed(s(1)),
    ///     jitter: Jitter::None,
    ///     max_elapsed: Some(s(60)),
    ///     ..Default::default()
    /// };
    /// let mut schedule = config.schedule(SmallRng::seed_from_u64(1));
    /// assert_eq!(schedule.next_delay(s(0), Some(s(30))), Ok(s(30)));  // the server asked
    /// assert_eq!(schedule.next_delay(s(59), None), Err(GiveUp::MaxElapsed));
    /// assert_eq!(schedule.next_delay(s(31), None), Ok(s(1)));
    /// assert_eq!(schedule.next_delay(s(33), None), Err(GiveUp::AttemptsExhausted));
    ///
    /// // Longer than `max_retry_after` (60 s by default): no retry at all.
    /// let mut schedule = config.schedule(SmallRng::seed_from_u64(1));
    /// assert_eq!(schedule.next_delay(s(0), Some(s(61))), Err(GiveUp::RetryAfterTooLong));
    /// ```
    pub fn next_delay(
        &mut self,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Result<Duration, GiveUp> {
        let retry = self.retries.saturating_add(1);
        if retry >= self.config.max_attempts {
            return Err(GiveUp::AttemptsExhausted);
        }
        let (delay, drawn) = decide(
            &self.config,
            retry,
            self.previous,
            Some(elapsed),
            retry_after,
            &mut self.rng,
        )?;
        self.retries = retry;
        self.previous = Some(drawn);
        Ok(delay)
    }

    /// Retries granted so far.
    ///
    /// ```
    /// use rand::{rngs::SmallRng, SeedableRng};
    /// let mut schedule = resilience::RetryConfig::default().schedule(SmallRng::seed_from_u64(1));
    /// schedule.next().unwrap();
    /// assert_eq!(schedule.retries(), 1);
    /// ```
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

impl<R: Rng> Iterator for Schedule<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.next_delay(self.slept, None).ok()?;
        self.slept = self.slept.saturating_add(delay);
        Some(delay)
    }
}

/// The one decision of every retry loop once an attempt failed and attempts are left
/// ([`Schedule`], and `#[retry]`'s call sites, which keep their state apart): the delay
/// before retry number `retry` (1 for the first) and the value drawn for it (the next
/// `previous`), or why there is none. `elapsed` is the time since the first call began,
/// when `max_elapsed` is tracked; `retry_after` the error's own wait, if it asked.
pub(crate) fn decide<R: Rng + ?Sized>(
    config: &RetryConfig,
    retry: u32,
    previous: Option<Duration>,
    elapsed: Option<Duration>,
    retry_after: Option<Duration>,
    rng: &mut R,
) -> Result<(Duration, Duration), GiveUp> {
    within_retry_after(config.max_retry_after, retry_after)?;
    let drawn = draw(&config.backoff, &config.jitter, retry, previous, rng);
    let delay = honour_retry_after(drawn, retry_after);
    if let Some(elapsed) = elapsed {
        if !within_elapsed(config.max_elapsed, elapsed, delay) {
            return Err(GiveUp::MaxElapsed);
        }
    }
    Ok((delay, drawn))
}

/// The jittered, capped delay before `retry`; `previous` is the last one drawn.
fn draw<R: Rng + ?Sized>(
    backoff: &Backoff,
    jitter: &Jitter,
    retry: u32,
    previous: Option<Duration>,
    rng: &mut R,
) -> Duration {
    let nominal = backoff.delay(retry);
    let drawn = jitter.apply(nominal, previous.unwrap_or(nominal), rng);
    let ceiling = match (backoff.cap(), jitter) {
        (Some(cap), _) => cap,
        // Decorrelated draws feed on themselves; without a cap they could grow 3× a retry.
        (None, Jitter::Decorrelated) => nominal.saturating_mul(3),
        (None, _) => Duration::MAX,
    };
    drawn.min(ceiling)
}

/// The error's own wait is a floor: it may exceed the cap, since the server asked.
fn honour_retry_after(delay: Duration, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(wait) => delay.max(wait),
        None => delay,
    }
}

/// An error's `retry_after` is waited up to `max`; one asking for longer ends the retries.
fn within_retry_after(max: Duration, retry_after: Option<Duration>) -> Result<(), GiveUp> {
    match retry_after {
        Some(wait) if wait > max => Err(GiveUp::RetryAfterTooLong),
        _ => Ok(()),
    }
}

/// Whether an attempt starting after `delay` would start strictly before `max_elapsed`.
fn within_elapsed(max_elapsed: Option<Duration>, elapsed: Duration, delay: Duration) -> bool {
    match max_elapsed {
        None => true,
        Some(max) => elapsed.checked_add(delay).is_some_and(|start| start < max),
    }
}
