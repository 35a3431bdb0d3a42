//! Timeouts: what `#[timeout(D)]` does when an async call takes longer than `D`.
//!
//! The call's future is dropped, which releases whatever it held (a half-open trial's
//! place, a budget token), and the function returns `Err(E::from(TimedOut { .. }))`.
//!
//! ```
//! use resilience::{timeout, TimedOut};
//! use std::time::Duration;
//!
//! #[derive(Debug)]
//! enum FetchError { TimedOut(TimedOut) }
//! impl From<TimedOut> for FetchError {
//!     fn from(t: TimedOut) -> Self { FetchError::TimedOut(t) }
//! }
//!
//! #[timeout(50ms)]
//! async fn slow() -> Result<(), FetchError> {
//!     tokio::time::sleep(Duration::from_secs(10)).await;
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let FetchError::TimedOut(t) = slow().await.unwrap_err();
//! assert_eq!(t.limit, Duration::from_millis(50));
//! # }
//! ```

use std::time::Duration;

use crate::{Category, MarcusError, Remediation};

/// A call took longer than its `#[timeout]` and was dropped.
///
/// A transient, retryable [`MarcusError`] with code `TIMED_OUT_ERROR`, so a `#[retry]`
/// written before `#[timeout]` tries again.
///
/// ```
/// use resilience::{MarcusError, TimedOut};
/// use std::time::Duration;
///
/// let t = TimedOut { function: "app::fetch", limit: Duration::from_secs(2) };
/// assert_eq!(t.code(), "TIMED_OUT_ERROR");
/// assert!(t.retryable());
/// assert_eq!(t.to_string(), "app::fetch timed out after 2s");
/// // Durations serialize as everywhere in the crate: "2s", "250ms".
/// assert_eq!(serde_json::to_value(&t).unwrap()["limit"], "2s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{function} timed out after {}", humantime::format_duration(*.limit))]
pub struct TimedOut {
    /// The function that was cut off (`module::path::name`).
    pub function: &'static str,
    /// The limit it exceeded.
    #[serde(serialize_with = "crate::duration_serde::serialize")]
    pub limit: Duration,
}

impl MarcusError for TimedOut {
    fn code(&self) -> &'static str {
        "TIMED_OUT_ERROR"
    }

    fn category(&self) -> Category {
        Category::Transient
    }

    fn remediation(&self) -> Remediation {
        Remediation {
            immediate: Some(
                "Retry; the call may succeed when the dependency is less loaded".into(),
            ),
            long_term: Some(
                "Check the dependency's latency, or raise the limit if it is too tight".into(),
            ),
            ..Remediation::for_category(Category::Transient)
        }
    }
}
