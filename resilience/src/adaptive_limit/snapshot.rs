//! [`AdaptiveLimitSnapshot`]: one adaptive limit's state, serializable.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::AdaptiveLimitConfig;

/// An adaptive limit's state and configuration at one moment.
///
/// ```
/// let l = resilience::adaptive_limit::AdaptiveLimiter::new("docs.adaptive.snapshot", Default::default()).unwrap();
/// let json = serde_json::to_value(l.snapshot()).unwrap();
/// assert_eq!(json["limit"], 20);
/// assert_eq!(json["in_flight"], 0);
/// assert_eq!(json["min_rtt"], serde_json::Value::Null);
/// assert_eq!(json["config"]["algorithm"], "gradient2");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdaptiveLimitSnapshot {
    /// The limit's name.
    pub name: String,
    /// Its key, for one instance of a keyed limit (none yet: always `None`).
    pub key: Option<String>,
    /// Calls allowed at once now.
    pub limit: u32,
    /// Calls running.
    pub in_flight: u32,
    /// Calls waiting for a place.
    pub waiting: u32,
    /// The lowest round-trip time of a window so far (`"12ms"`), once one closed.
    #[serde(with = "crate::duration_serde::option")]
    pub min_rtt: Option<Duration>,
    /// The last window's mean round-trip time.
    #[serde(with = "crate::duration_serde::option")]
    pub rtt: Option<Duration>,
    /// What the algorithm takes as the unloaded round-trip time (Vegas's no-load time,
    /// Gradient2's long-term average; none for AIMD).
    #[serde(with = "crate::duration_serde::option")]
    pub baseline_rtt: Option<Duration>,
    /// Calls refused since it was made.
    pub rejections: u64,
    /// The configuration in force.
    pub config: AdaptiveLimitConfig,
}
