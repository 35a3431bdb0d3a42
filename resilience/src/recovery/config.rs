//! [`RecoveryConfig`] (a service's thresholds) and [`RampConfig`] (its traffic ramp).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration_serde;
use crate::ConfigError;

/// A service's thresholds and traffic ramp. The defaults are the reference recovery
/// manager's: degraded after 3 consecutive failures, failed after 10, and 3 consecutive
/// successes (its `min_healthy_checks`) before the ramp starts.
///
/// ```
/// use resilience::recovery::RecoveryConfig;
///
/// let c = RecoveryConfig::default();
/// assert_eq!((c.degrade_after, c.fail_after, c.recover_after), (3, 10, 3));
/// let err = RecoveryConfig { fail_after: 2, ..c }.validate().unwrap_err();
/// assert_eq!((err.field(), err.value()), ("fail_after", "2"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoveryConfig {
    /// Consecutive failures that take a healthy service to degraded.
    pub degrade_after: u32,
    /// Consecutive failures (the whole run, those that degraded it included) that take
    /// a degraded service to failed. At least `degrade_after`.
    pub fail_after: u32,
    /// Consecutive successes that take a degraded or failed service back: straight to
    /// healthy if it never lost its traffic, else to recovering.
    pub recover_after: u32,
    /// How traffic comes back while recovering.
    pub ramp: RampConfig,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            degrade_after: 3,
            fail_after: 10,
            recover_after: 3,
            ramp: RampConfig::default(),
        }
    }
}

impl RecoveryConfig {
    /// Checks every field: thresholds at least 1, `fail_after >= degrade_after`, and
    /// the ramp's own rules.
    ///
    /// ```
    /// use resilience::recovery::RecoveryConfig;
    /// assert!(RecoveryConfig::default().validate().is_ok());
    /// let err = RecoveryConfig { recover_after: 0, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!(err.field(), "recover_after");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("degrade_after", self.degrade_after),
            ("fail_after", self.fail_after),
            ("recover_after", self.recover_after),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, value, "must be at least 1"));
            }
        }
        if self.fail_after < self.degrade_after {
            return Err(ConfigError::new(
                "fail_after",
                self.fail_after,
                format!("must be at least `degrade_after` ({})", self.degrade_after),
            ));
        }
        self.ramp.validate()
    }
}

/// The traffic ramp of a recovering service: the share of calls admitted, in percent,
/// stepping up every `step_interval` until it reaches 100 and the service is healthy.
///
/// The default is the reference's five equal steps, 30 seconds apart: 20, 40, 60, 80,
/// 100. The ramp lasts `(steps.len() - 1) * step_interval`: the last step, 100 %, is
/// where it ends.
///
/// ```
/// use resilience::recovery::RampConfig;
/// use std::time::Duration;
///
/// let ramp = RampConfig::new([10, 25, 50, 75, 100], Duration::from_secs(10))?;
/// assert_eq!(ramp.duration(), Duration::from_secs(40));
/// assert_eq!(RampConfig::default().steps, [20, 40, 60, 80, 100]);
/// assert_eq!(RampConfig::even(3, Duration::from_secs(1))?.steps, [33, 67, 100]);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RampConfig {
    /// Percentages admitted, strictly increasing, each 1–100, the last 100.
    pub steps: Vec<u8>,
    /// Time spent on each step.
    #[serde(with = "duration_serde")]
    pub step_interval: Duration,
}

impl Default for RampConfig {
    fn default() -> Self {
        RampConfig {
            steps: vec![20, 40, 60, 80, 100],
            step_interval: Duration::from_secs(30),
        }
    }
}

impl RampConfig {
    /// A ramp through `steps`, validated.
    ///
    /// ```
    /// use resilience::recovery::RampConfig;
    /// use std::time::Duration;
    ///
    /// let err = RampConfig::new([50, 25, 100], Duration::from_secs(1)).unwrap_err();
    /// assert_eq!(err.field(), "steps");
    /// let err = RampConfig::new([50, 100], Duration::ZERO).unwrap_err();
    /// assert_eq!(err.field(), "step_interval");
    /// ```
    pub fn new(
        steps: impl Into<Vec<u8>>,
        step_interval: Duration,
    ) -> Result<RampConfig, ConfigError> {
        let ramp = RampConfig {
            steps: steps.into(),
            step_interval,
        };
        ramp.validate()?;
        Ok(ramp)
    }

    /// `count` equal steps up to 100 (rounded to whole percents), as the reference's
    /// `traffic_ramp_steps` makes them.
    ///
    /// ```
    /// use resilience::recovery::RampConfig;
    /// use std::time::Duration;
    ///
    /// assert_eq!(RampConfig::even(4, Duration::from_secs(1))?.steps, [25, 50, 75, 100]);
    /// assert_eq!(RampConfig::even(0, Duration::from_secs(1)).unwrap_err().field(), "steps");
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn even(count: u8, step_interval: Duration) -> Result<RampConfig, ConfigError> {
        if count == 0 || count > 100 {
            return Err(ConfigError::new(
                "steps",
                count,
                "the number of steps must be 1 to 100",
            ));
        }
        let count = u32::from(count);
        // Rounded to nearest; distinct because the steps are at least 1 % apart.
        let steps = (1..=count)
            .map(|i| ((200 * i + count) / (2 * count)) as u8)
            .collect::<Vec<u8>>();
        RampConfig::new(steps, step_interval)
    }

    /// Checks the steps (non-empty, strictly increasing, each 1–100, the last 100) and
    /// that `step_interval` is more than zero.
    ///
    /// ```
    /// use resilience::recovery::RampConfig;
    /// let err = RampConfig { steps: vec![10, 50], ..Default::default() }.validate().unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("steps", "[10, 50]"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let steps = &self.steps;
        if steps.is_empty() {
            return Err(ConfigError::new(
                "steps",
                steps,
                "must hold at least one percentage (100)",
            ));
        }
        if steps.iter().any(|&p| p == 0 || p > 100) {
            return Err(ConfigError::new(
                "steps",
                steps,
                "every step must be 1 to 100 percent",
            ));
        }
        if steps.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ConfigError::new(
                "steps",
                steps,
                "steps must be strictly increasing",
            ));
        }
        if steps.last() != Some(&100) {
            return Err(ConfigError::new(
                "steps",
                steps,
                "the last step must be 100, where the ramp ends",
            ));
        }
        if self.step_interval.is_zero() {
            return Err(ConfigError::new(
                "step_interval",
                self.step_interval,
                "must be more than zero",
            ));
        }
        Ok(())
    }

    /// How long the whole ramp takes.
    ///
    /// ```
    /// use resilience::recovery::RampConfig;
    /// assert_eq!(RampConfig::default().duration(), std::time::Duration::from_secs(120));
    /// ```
    pub fn duration(&self) -> Duration {
        let steps = u32::try_from(self.steps.len().saturating_sub(1)).unwrap_or(u32::MAX);
        self.step_interval.saturating_mul(steps)
    }
}

/// How often a health check runs, and how long it may take.
///
/// ```
/// use resilience::recovery::CheckConfig;
/// use std::time::Duration;
///
/// let c = CheckConfig::every(Duration::from_secs(5));
/// assert_eq!(c.timeout, Duration::from_secs(5));
/// assert_eq!(CheckConfig::default().interval, Duration::from_secs(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckConfig {
    /// Time between two runs. The reference's `health_check_interval`, 10 s.
    #[serde(with = "duration_serde")]
    pub interval: Duration,
    /// A run that takes longer fails ("timed out"). The interval by default: a check
    /// slower than its own period is not telling anything useful.
    #[serde(with = "duration_serde")]
    pub timeout: Duration,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig::every(Duration::from_secs(10))
    }
}

impl CheckConfig {
    /// Runs every `interval`, timing out after `interval`.
    ///
    /// ```
    /// let c = resilience::recovery::CheckConfig::every(std::time::Duration::from_secs(1));
    /// assert_eq!(c.interval, c.timeout);
    /// ```
    pub const fn every(interval: Duration) -> CheckConfig {
        CheckConfig {
            interval,
            timeout: interval,
        }
    }

    /// Checks that both durations are more than zero.
    ///
    /// ```
    /// use resilience::recovery::CheckConfig;
    /// let err = CheckConfig::every(std::time::Duration::ZERO).validate().unwrap_err();
    /// assert_eq!(err.field(), "interval");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.interval.is_zero() {
            return Err(ConfigError::new(
                "interval",
                self.interval,
                "must be more than zero",
            ));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::new(
                "timeout",
                self.timeout,
                "must be more than zero",
            ));
        }
        Ok(())
    }
}
