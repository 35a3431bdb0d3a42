//! [`RetryConfig`]: everything `#[retry(...)]` can say, as a value.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Backoff, Jitter, Nested};
use crate::duration_serde;
use crate::ConfigError;

/// A retry policy: the attribute's keys (all but the function paths) as public fields.
///
/// `Default` is the attribute's defaults: 3 attempts, exponential backoff from 1 s
/// doubling up to 60 s, `Spread(0.5)` jitter, no elapsed-time limit, no budget, not
/// adaptive, a `retry_after()` of up to 60 s waited, one attempt inside another retry's
/// attempt ([`Nested::Defer`]). It is not `#[non_exhaustive]`, so struct-update syntax works. Serialized
/// durations read and write as `"250ms"`, `"1m 30s"` (or a number of seconds).
///
/// ```
/// use resilience::retry::{Backoff, Jitter};
/// use resilience::RetryConfig;
/// use std::time::Duration;
///
/// let config = RetryConfig {
///     max_attempts: 5,
///     backoff: Backoff::Fixed(Duration::from_millis(250)),
///     jitter: Jitter::None,
///     ..Default::default()
/// };
/// config.validate()?;
/// let delays: Vec<_> = config.schedule(rand::rngs::SmallRng::from_os_rng()).collect();
/// assert_eq!(delays, [Duration::from_millis(250); 4]);
/// # use rand::SeedableRng;
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Calls in all, the first included; at least 1 (1 means never retry).
    pub max_attempts: u32,
    /// The nominal delay before each retry.
    pub backoff: Backoff,
    /// How each delay is randomised.
    pub jitter: Jitter,
    /// No new attempt starts once this much time has passed since the first began; a
    /// delay that would end at or past it gives up instead of sleeping.
    #[serde(
        with = "duration_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_elapsed: Option<Duration>,
    /// The name of a shared [`RetryBudget`](super::RetryBudget) each retry draws a token
    /// from (see [`retry_budget`](crate::retry_budget)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Cow<'static, str>>,
    /// Let the call site adapt its attempts to recent outcomes (see
    /// [`AdaptiveAttempts`](super::AdaptiveAttempts)).
    pub adaptive: bool,
    /// The longest `retry_after()` an error may ask for and be waited (never shortened
    /// by the backoff); an error asking for longer ends the retries at once, returning
    /// it ([`GiveUp::RetryAfterTooLong`](super::GiveUp::RetryAfterTooLong)). Default 60 s.
    #[serde(with = "duration_serde")]
    pub max_retry_after: Duration,
    /// What the retry does inside another retry's attempt (the same task, or the same
    /// thread's call stack): by default ([`Nested::Defer`]) one attempt, leaving the
    /// retrying to the outer retry, so the attempts of two levels do not multiply;
    /// [`Nested::Independent`] retries at both levels.
    pub nested: Nested,
}

/// The default of [`RetryConfig::max_retry_after`]: 60 s.
pub(crate) const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

impl Default for RetryConfig {
    /// The defaults of `#[retry]` (see the type's docs).
    ///
    /// ```
    /// let config = resilience::RetryConfig::default();
    /// assert_eq!(config.max_attempts, 3);
    /// assert_eq!(config.jitter, resilience::retry::Jitter::Spread(0.5));
    /// ```
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            backoff: Backoff::default(),
            jitter: Jitter::default(),
            max_elapsed: None,
            budget: None,
            adaptive: false,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            nested: Nested::Defer,
        }
    }
}

impl RetryConfig {
    /// Checks every field; the first invalid one is an `Err` naming it and its value.
    ///
    /// Refused: `max_attempts` 0; an exponential `factor` below 1, infinite or NaN; a
    /// `max` below `base`; a spread outside `0 < f ≤ 1` (or NaN); a zero `max_elapsed`;
    /// an empty budget name.
    ///
    /// ```
    /// use resilience::retry::Backoff;
    /// use resilience::RetryConfig;
    /// use std::time::Duration;
    ///
    /// let bad = RetryConfig {
    ///     backoff: Backoff::Exponential {
    ///         base: Duration::from_secs(1),
    ///         factor: 0.5,
    ///         max: Duration::from_secs(10),
    ///     },
    ///     ..Default::default()
    /// };
    /// let err = bad.validate().unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("backoff.factor", "0.5"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return Err(ConfigError::new(
                "max_attempts",
                self.max_attempts,
                "must be at least 1 (the first call counts)",
            ));
        }
        if let Backoff::Exponential { base, factor, max } = self.backoff {
            if !(factor.is_finite() && factor >= 1.0) {
                return Err(ConfigError::new(
                    "backoff.factor",
                    factor,
                    "must be a finite number of at least 1.0",
                ));
            }
            if max < base {
                return Err(ConfigError::new(
                    "backoff.max",
                    max,
                    format!("must be at least the base delay ({base:?})"),
                ));
            }
        }
        if let Jitter::Spread(f) = self.jitter {
            if !(f > 0.0 && f <= 1.0) {
                return Err(ConfigError::new(
                    "jitter",
                    self.jitter,
                    "the spread must be greater than 0 and at most 1 (0.5 means 50–150 %)",
                ));
            }
        }
        if self.max_elapsed == Some(Duration::ZERO) {
            return Err(ConfigError::new(
                "max_elapsed",
                Duration::ZERO,
                "must be greater than zero (leave it unset for no limit)",
            ));
        }
        if let Some(name) = &self.budget {
            if name.trim().is_empty() {
                return Err(ConfigError::new("budget", name, "must not be empty"));
            }
        }
        Ok(())
    }
}
