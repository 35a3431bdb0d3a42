//! [`RateLimited`]: what a refused call returns.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::{Category, MarcusError, Remediation};

/// A call refused by a rate limiter; the body did not run.
///
/// A transient, retryable [`MarcusError`] with code `RATE_LIMITED_ERROR`;
/// [`retry_after`](MarcusError::retry_after) is the wait until a call would be
/// admitted, so a `#[retry]` written before `#[rate_limit]` waits exactly that long.
///
/// ```
/// use resilience::{MarcusError, RateLimited};
/// use std::time::Duration;
///
/// let limited = RateLimited { name: "openai", key: None, retry_after: Duration::from_millis(120) };
/// assert_eq!(limited.code(), "RATE_LIMITED_ERROR");
/// assert!(limited.retryable());
/// assert_eq!(limited.retry_after(), Some(Duration::from_millis(120)));
/// assert_eq!(limited.to_string(), "rate limit `openai` reached; next call admitted in 120ms");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimited {
    /// The rate limiter that refused the call.
    pub name: &'static str,
    /// Its key, for a rate limit with `key = expr`.
    #[serde(serialize_with = "crate::keyed::serialize_key")]
    pub key: Option<Arc<str>>,
    /// The wait until a call would be admitted.
    #[serde(with = "crate::duration_serde")]
    pub retry_after: Duration,
}

impl core::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "rate limit `{}`", self.name)?;
        if let Some(key) = &self.key {
            write!(f, " (key `{key}`)")?;
        }
        write!(
            f,
            " reached; next call admitted in {}",
            humantime::format_duration(self.retry_after)
        )
    }
}

impl std::error::Error for RateLimited {}

impl MarcusError for RateLimited {
    fn code(&self) -> &'static str {
        "RATE_LIMITED_ERROR"
    }

    fn category(&self) -> Category {
        Category::Transient
    }

    fn retry_after(&self) -> Option<Duration> {
        Some(self.retry_after)
    }

    fn remediation(&self) -> Remediation {
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
