//! [`FaultConfig`]: a site's faults as a configuration table (`[chaos.NAME]`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Fault;
use crate::ConfigError;

/// The faults of one site as written in a configuration file's `[chaos.NAME]` table; each
/// rate left out (or 0) injects nothing of that kind.
///
/// ```
/// use resilience::chaos::{Fault, FaultConfig};
/// use std::time::Duration;
///
/// let config: FaultConfig = serde_json::from_str(
///     r#"{ "error_rate": 0.1, "latency_rate": 0.05, "latency": "200ms" }"#,
/// ).unwrap();
/// config.validate().unwrap();
/// assert_eq!(
///     config.faults(),
///     vec![Fault::error(0.1), Fault::latency(0.05, Duration::from_millis(200))],
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Share of calls that fail with [`InjectedFault`](crate::InjectedFault).
    pub error_rate: f64,
    /// Share of calls that wait [`latency`](Self::latency) first.
    pub latency_rate: f64,
    /// How long a slowed call waits (`"250ms"`).
    #[serde(with = "crate::duration_serde")]
    pub latency: Duration,
    /// Share of calls refused as if the breaker (bulkhead, limiter) had refused them.
    pub refusal_rate: f64,
}

impl FaultConfig {
    /// `Err` naming the field and its value: a rate outside 0.0 to 1.0, or a latency rate
    /// without a latency.
    ///
    /// ```
    /// use resilience::chaos::FaultConfig;
    /// let bad = FaultConfig { refusal_rate: 2.0, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().field(), "refusal_rate");
    /// let no_latency = FaultConfig { latency_rate: 0.5, ..Default::default() };
    /// assert_eq!(no_latency.validate().unwrap_err().field(), "latency");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, rate) in [
            ("error_rate", self.error_rate),
            ("latency_rate", self.latency_rate),
            ("refusal_rate", self.refusal_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ConfigError::new(
                    field,
                    rate,
                    "must be a share of calls from 0.0 to 1.0",
                ));
            }
        }
        if self.latency_rate > 0.0 && self.latency.is_zero() {
            return Err(ConfigError::new(
                "latency",
                humantime::format_duration(self.latency).to_string(),
                "must be more than zero when `latency_rate` is set (as in \"250ms\")",
            ));
        }
        Ok(())
    }

    /// The faults this table sets, the ones with a rate above 0.
    ///
    /// ```
    /// use resilience::chaos::{Fault, FaultConfig};
    /// let c = FaultConfig { refusal_rate: 0.5, ..Default::default() };
    /// assert_eq!(c.faults(), vec![Fault::refusal(0.5)]);
    /// ```
    pub fn faults(&self) -> Vec<Fault> {
        let mut faults = Vec::new();
        if self.error_rate > 0.0 {
            faults.push(Fault::error(self.error_rate));
        }
        if self.latency_rate > 0.0 {
            faults.push(Fault::latency(self.latency_rate, self.latency));
        }
        if self.refusal_rate > 0.0 {
            faults.push(Fault::refusal(self.refusal_rate));
        }
        faults
    }
}
