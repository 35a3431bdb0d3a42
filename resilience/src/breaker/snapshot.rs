//! [`BreakerSnapshot`]: one breaker's state, counts and configuration, serializable.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BreakerConfig, BreakerState};
use crate::duration_serde;

/// A breaker's state, counts and configuration at one moment.
///
/// ```
/// use resilience::{registry, BreakerConfig};
///
/// let b = registry().register("docs.snapshot", BreakerConfig::default()).unwrap();
/// b.acquire().unwrap().record_failure();
/// let s = b.snapshot();
/// assert_eq!(s.consecutive_failures, 1);
/// let json = serde_json::to_value(&s).unwrap();
/// assert_eq!(json["state"], "closed");
/// assert_eq!(json["config"]["failure_threshold"], 5);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BreakerSnapshot {
    /// The breaker's name.
    pub name: String,
    /// Its key, for one instance of a breaker with `key = expr` (`None` otherwise).
    #[serde(default)]
    pub key: Option<String>,
    /// Its state.
    pub state: BreakerState,
    /// Failures since the last success (closed only).
    pub consecutive_failures: u32,
    /// Failures within `window` (time-window rule only).
    pub failures_in_window: u32,
    /// Calls held by the count-based window (rate rules only).
    pub window_calls: u32,
    /// Of those, failures.
    pub window_failures: u32,
    /// Of those, slow calls.
    pub window_slow_calls: u32,
    /// `window_failures` as a percentage (0–100) of `window_calls`: what `failure_rate`
    /// is compared with. `None` while the window is empty (or no rate rule is on).
    #[serde(default)]
    pub failure_rate_percent: Option<f64>,
    /// `window_slow_calls` as a percentage (0–100) of `window_calls`: what
    /// `slow_call_rate` is compared with. `None` while the window is empty.
    #[serde(default)]
    pub slow_call_rate_percent: Option<f64>,
    /// Trial calls running (half-open only).
    pub half_open_in_flight: u32,
    /// Successful trials so far (half-open only).
    pub half_open_successes: u32,
    /// Calls refused since the breaker was made.
    pub rejections: u64,
    /// Times the state machine opened it (not counting `force_open`).
    pub times_opened: u64,
    /// Open only: time left until a trial call is let through.
    #[serde(with = "duration_serde::option")]
    pub retry_after: Option<Duration>,
    /// The parent breaker's name, if any.
    pub parent: Option<String>,
    /// The configuration in force.
    pub config: BreakerConfig,
}
