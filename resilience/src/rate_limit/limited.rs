//! [`RateLimited`]: what a refused call returns.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::{Category, MarcusError, Remediation};

/// A call refused by a rate limiter; the body did not run.
///
/// A transient, retryable [`MarcusError`] with code `RATE_LIMITED_ERROR`;
/// [`retry_after`](MarcusError::retry_after) is the wait until the call would be
/// admitted, so a `#[retry]` written before `#[rate_limit]` waits exactly that long.
///
/// A weighted call (`cost = expr`, [`RateLimiter::check_n`](super::RateLimiter::check_n))
/// whose cost is above the burst can never be admitted: its refusal has
/// [`over_burst`](Self::over_burst) set, is a configuration error, not retryable, and
/// has no `retry_after`.
///
/// ```
/// use resilience::{Category, MarcusError, RateLimited};
/// use std::time::Duration;
///
/// let limited = RateLimited::new("openai", None, Duration::from_millis(120));
/// assert_eq!(limited.code(), "RATE_LIMITED_ERROR");
/// assert!(limited.retryable());
/// assert_eq!(limited.retry_after(), Some(Duration::from_millis(120)));
/// assert_eq!(limited.to_string(), "rate limit `openai` reached; next call admitted in 120ms");
///
/// let never = RateLimited { cost: 150, over_burst: Some(100), ..RateLimited::new("openai", None, Duration::ZERO) };
/// assert!(!never.retryable());
/// assert_eq!((never.retry_after(), never.category()), (None, Category::Configuration));
/// assert_eq!(
///     never.to_string(),
///     "rate limit `openai` can never admit a call of cost 150: its burst is 100; split the call, or raise `burst`"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimited {
    /// The rate limiter that refused the call.
    pub name: &'static str,
    /// Its key, for a rate limit with `key = expr`.
    #[serde(serialize_with = "crate::keyed::serialize_key")]
    pub key: Option<Arc<str>>,
    /// The wait until the call would be admitted (zero when it never would).
    #[serde(with = "crate::duration_serde")]
    pub retry_after: Duration,
    /// The units the refused call asked for: its `cost`, 1 for an unweighted call.
    pub cost: u32,
    /// `Some(burst)` when the call's cost is above the limiter's burst: no wait would
    /// admit it.
    pub over_burst: Option<u32>,
}

impl RateLimited {
    /// The refusal of a call of cost 1 by the limiter `name` (of `key`), admitted after
    /// `retry_after`.
    ///
    /// ```
    /// let l = resilience::RateLimited::new("api", None, std::time::Duration::from_secs(1));
    /// assert_eq!((l.cost, l.over_burst), (1, None));
    /// ```
    pub fn new(name: &'static str, key: Option<Arc<str>>, retry_after: Duration) -> RateLimited {
        RateLimited {
            name,
            key,
            retry_after,
            cost: 1,
            over_burst: None,
        }
    }
}

impl core::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "rate limit `{}`", self.name)?;
        if let Some(key) = &self.key {
            write!(f, " (key `{key}`)")?;
        }
        if let Some(burst) = self.over_burst {
            return write!(
                f,
                " can never admit a call of cost {}: its burst is {burst}; split the call, or raise `burst`",
                self.cost
            );
        }
        let wait = humantime::format_duration(self.retry_after);
        match self.cost {
            1 => write!(f, " reached; next call admitted in {wait}"),
            cost => write!(f, " reached; this call (cost {cost}) admitted in {wait}"),
        }
    }
}

impl std::error::Error for RateLimited {}

impl MarcusError for RateLimited {
    fn code(&self) -> &'static str {
        "RATE_LIMITED_ERROR"
    }

    fn category(&self) -> Category {
        match self.over_burst {
            None => Category::Transient,
            Some(_) => Category::Configuration,
        }
    }

    fn retryable(&self) -> bool {
        self.over_burst.is_none()
    }

    fn retry_after(&self) -> Option<Duration> {
        self.over_burst.is_none().then_some(self.retry_after)
    }

    fn remediation(&self) -> Remediation {
        if self.over_burst.is_some() {
            return Remediation {
                immediate: Some("Split the call into parts of at most the burst".into()),
                long_term: Some(
                    "Raise `burst` (and `limit` if the quota allows) to the largest cost a call may have"
                        .into(),
                ),
                ..Remediation::for_category(Category::Configuration)
            };
        }
        Remediation {
            immediate: Some("Retry after the given delay".into()),
            long_term: Some(
                "Spread the calls out, or raise the limit (registry().configure_rate_limit) if the quota allows"
                    .into(),
            ),
            ..Remediation::for_category(Category::Transient)
        }
    }
}
