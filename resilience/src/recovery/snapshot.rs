//! Serializable views of the recovery manager.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{RampConfig, RecoveryConfig, RecoveryState};
use crate::duration_serde;
use crate::BreakerState;

/// One service's state and counts at one moment.
///
/// ```
/// use resilience::recovery::{Recovery, RecoveryState};
///
/// let r = Recovery::new();
/// r.report_failure("search");
/// let s = r.snapshot().services.remove(0);
/// assert_eq!((s.name.as_str(), s.state, s.consecutive_failures), ("search", RecoveryState::Healthy, 1));
/// assert_eq!(s.traffic_percent, 100);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceSnapshot {
    /// The service's name.
    pub name: String,
    /// Its state.
    pub state: RecoveryState,
    /// The share of calls its state machine admits, in percent (a slow start, if any,
    /// is shown on its own).
    pub traffic_percent: u8,
    /// Successes in a row.
    pub consecutive_successes: u32,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// The last failure's message, cleared by a success.
    pub last_error: Option<String>,
    /// Time since the last change of state.
    #[serde(with = "duration_serde")]
    pub in_state_for: Duration,
    /// Recovering only: time since the ramp started.
    #[serde(with = "duration_serde::option")]
    pub ramp_elapsed: Option<Duration>,
    /// The slow start after its breaker closes, if asked for.
    pub slow_start: Option<SlowStartSnapshot>,
    /// The configuration in force.
    pub config: RecoveryConfig,
}

/// A slow start's view of its breaker and its ramp.
///
/// ```
/// use resilience::recovery::RampConfig;
/// use resilience::registry::Registry;
///
/// let reg = Registry::new();
/// let r = reg.recovery();
/// r.slow_start_after_breaker("docs.slow_start_snapshot", RampConfig::default())?;
/// let s = r.snapshot().services[0].slow_start.clone().unwrap();
/// assert!(!s.ramping);
/// assert_eq!(s.traffic_percent, 100);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SlowStartSnapshot {
    /// The breaker's state at the last poll (`null` until the breaker is registered).
    pub breaker_state: Option<BreakerState>,
    /// Whether a ramp is running.
    pub ramping: bool,
    /// The share of calls the slow start admits, in percent.
    pub traffic_percent: u8,
    /// The ramp it runs after a close.
    pub ramp: RampConfig,
}

/// Every service's snapshot, and the last result of every health check.
///
/// ```
/// let r = resilience::recovery::Recovery::new();
/// r.report_success("a");
/// let json = serde_json::to_value(r.snapshot()).unwrap();
/// assert_eq!(json["services"][0]["state"], "healthy");
/// assert_eq!(json["checks"], serde_json::json!([]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecoverySnapshot {
    /// Every service, by name.
    pub services: Vec<ServiceSnapshot>,
    /// Every health check that has run, by name, with its last result.
    pub checks: Vec<super::CheckReport>,
}

impl RecoverySnapshot {
    /// The snapshot of the service `name`, if known.
    ///
    /// ```
    /// assert!(resilience::recovery::Recovery::new().snapshot().service("x").is_none());
    /// ```
    pub fn service(&self, name: &str) -> Option<&ServiceSnapshot> {
        self.services.iter().find(|s| s.name == name)
    }
}
