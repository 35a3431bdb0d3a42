//! [`BreakerSnapshot`]: one breaker's state, counts and configuration, serializable; and
//! [`WindowKind`], which window its rates are over.

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
    /// The window the rates are over: [`Count`](WindowKind::Count) (the last
    /// `window_size` calls) or [`Time`](WindowKind::Time) (the calls of the last
    /// `rate_window`). `None` when no rate rule is on.
    #[serde(default)]
    pub window_kind: Option<WindowKind>,
    /// Calls held by the window (rate rules only).
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
    /// How long the breaker stays open: open, this opening's period; half-open, the
    /// next one if a trial fails; otherwise `recovery_timeout` (the first period after
    /// a closing). It grows by `recovery_factor` with each failed trial, up to
    /// `max_recovery_timeout`.
    #[serde(default, with = "duration_serde")]
    pub open_period: Duration,
    /// The parent breaker's name, if any.
    pub parent: Option<String>,
    /// The configuration in force.
    pub config: BreakerConfig,
}

/// Which window a breaker's failure and slow-call rates are over
/// ([`BreakerSnapshot::window_kind`]).
///
/// ```
/// use resilience::breaker::{Breaker, WindowKind};
/// use resilience::BreakerConfig;
/// use std::time::Duration;
///
/// let b = Breaker::new("docs.window_kind", BreakerConfig {
///     failure_rate: Some(50.0),
///     rate_window: Some(Duration::from_secs(30)),
///     ..Default::default()
/// })?;
/// assert_eq!(b.snapshot().window_kind, Some(WindowKind::Time));
/// assert_eq!(serde_json::to_value(WindowKind::Count).unwrap(), "count");
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// The last `window_size` calls (resilience4j's `COUNT_BASED`).
    Count,
    /// The calls of the last `rate_window` (resilience4j's `TIME_BASED`).
    Time,
}
