//! [`Overloaded`]: what a call refused by an adaptive limit returns.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::Priority;
use crate::{Category, MarcusError, Remediation};

/// A call refused by an adaptive limit; the body did not run.
///
/// A transient, retryable [`MarcusError`] with code `OVERLOADED_ERROR`;
/// [`retry_after`](MarcusError::retry_after) is the limiter's estimate of when a place
/// frees (the round-trip time of its calls, over the limit, for each call ahead), so a
/// `#[retry]` written before `#[adaptive_limit]` waits about that long. A breaker
/// outside the limit does not count it as a failure of the dependency.
///
/// ```
/// use resilience::{MarcusError, Overloaded, Priority};
/// use std::time::Duration;
///
/// let o = Overloaded {
///     name: "search", key: None, limit: 12, priority: Priority::Low,
///     waited: Duration::ZERO, retry_after: Duration::from_millis(8),
/// };
/// assert_eq!(o.code(), "OVERLOADED_ERROR");
/// assert!(o.retryable());
/// assert_eq!(o.retry_after(), Some(Duration::from_millis(8)));
/// assert_eq!(o.to_string(), "adaptive limit `search` reached (12 calls running); low-priority call refused; retry in 8ms");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overloaded {
    /// The adaptive limit that refused the call.
    pub name: &'static str,
    /// Its key, for a limit with one instance per key.
    #[serde(serialize_with = "crate::keyed::serialize_key")]
    pub key: Option<Arc<str>>,
    /// The limit when the call was refused.
    pub limit: u32,
    /// The call's priority.
    pub priority: Priority,
    /// How long the call waited for a place.
    #[serde(with = "crate::duration_serde")]
    pub waited: Duration,
    /// When a place is expected to free.
    #[serde(with = "crate::duration_serde")]
    pub retry_after: Duration,
}

impl core::fmt::Display for Overloaded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "adaptive limit `{}`", self.name)?;
        if let Some(key) = &self.key {
            write!(f, " (key `{key}`)")?;
        }
        write!(f, " reached ({} calls running); ", self.limit)?;
        if self.priority != Priority::Normal {
            write!(f, "{}-priority ", self.priority.as_str())?;
        }
        write!(f, "call refused")?;
        if !self.waited.is_zero() {
            write!(
                f,
                " after waiting {}",
                humantime::format_duration(self.waited)
            )?;
        }
        write!(
            f,
            "; retry in {}",
            humantime::format_duration(self.retry_after)
        )
    }
}

impl std::error::Error for Overloaded {}

impl MarcusError for Overloaded {
    fn code(&self) -> &'static str {
        "OVERLOADED_ERROR"
    }

    fn category(&self) -> Category {
        Category::Transient
    }

    fn retry_after(&self) -> Option<Duration> {
        Some(self.retry_after)
    }

    fn remediation(&self) -> Remediation {
        Remediation {
            immediate: Some("Retry after the wait given: the dependency is at the concurrency it can take".into()),
            long_term: Some(
                "Add capacity to the dependency, give this call a higher priority, or a max_wait (registry().configure_adaptive_limit)"
                    .into(),
            ),
            ..Remediation::for_category(Category::Transient)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn it_names_the_key_and_the_wait_and_serializes() {
        let o = Overloaded {
            name: "db",
            key: Some("eu".into()),
            limit: 3,
            priority: Priority::Normal,
            waited: Duration::from_millis(100),
            retry_after: Duration::from_millis(4),
        };
        assert_eq!(
            o.to_string(),
            "adaptive limit `db` (key `eu`) reached (3 calls running); call refused after waiting 100ms; retry in 4ms"
        );
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["key"], "eu");
        assert_eq!(json["priority"], "normal");
        assert_eq!(json["retry_after"], "4ms");
        assert_eq!(o.category(), Category::Transient);
        assert!(o.retryable());
    }
}
