//! [`MonitorConfig`]: the monitor's history bound, pattern thresholds and windows.

use std::time::Duration;

/// Tolerance of similarity comparisons, so that 0.4 + 0.3 counts as 0.7.
pub(crate) const EPSILON: f64 = 1e-9;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Every threshold and window of the monitor. `Default` holds the error framework's
/// reference numbers.
///
/// | field | meaning | default |
/// |---|---|---|
/// | `history_capacity` | records kept; the oldest is dropped past it (at most [`MAX_HISTORY`]) | 10 000 |
/// | `frequency_threshold`, `frequency_window` | same error type this often in the window: a `Frequency` pattern | 5 in 10 min |
/// | `burst_threshold`, `burst_window` | errors of any type: a `Burst` | 10 in 5 min |
/// | `agent_threshold`, `agent_window` | errors from one agent: an `AgentSpecific` pattern | 20 in 30 min |
/// | `cascade_threshold`, `cascade_window`, `cascade_similarity` | errors at least this similar to one another: a `Cascade` | 3 in 5 min, 0.7 |
/// | `similarity_weights`, `similarity_time` | how similarity is weighed (see [`SimilarityWeights`]); "close in time" means less than `similarity_time` apart | 0.4 / 0.3 / 0.2 / 0.1, 60 s |
/// | `health_window` | the window of the health score's error rate and critical count | 1 min |
///
/// ```
/// use resilience::monitor::MonitorConfig;
/// use std::time::Duration;
///
/// let config = MonitorConfig { burst_threshold: 50, ..Default::default() };
/// assert!(config.validate().is_ok());
///
/// let bad = MonitorConfig { frequency_window: Duration::ZERO, ..Default::default() };
/// let err = bad.validate().unwrap_err();
/// assert_eq!(err.field(), "frequency_window");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// How many records the history keeps (at least 1).
    pub history_capacity: usize,
    /// Errors of one type that make a `Frequency` pattern.
    pub frequency_threshold: usize,
    /// The window of `frequency_threshold` (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
    pub frequency_window: Duration,
    /// Errors of any type that make a `Burst`.
    pub burst_threshold: usize,
    /// The window of `burst_threshold` (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
    pub burst_window: Duration,
    /// Errors from one agent that make an `AgentSpecific` pattern.
    pub agent_threshold: usize,
    /// The window of `agent_threshold` (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
    pub agent_window: Duration,
    /// Similar errors that make a `Cascade`.
    pub cascade_threshold: usize,
    /// The window of `cascade_threshold` (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
    pub cascade_window: Duration,
    /// The similarity, 0.0 to 1.0, from which two errors count as similar.
    pub cascade_similarity: f64,
    /// The weight of each shared trait in the similarity of two errors.
    pub similarity_weights: SimilarityWeights,
    /// Two errors less than this apart are "close in time" (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
    pub similarity_time: Duration,
    /// The window over which the health score reads the error rate and counts critical
    /// errors (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
    pub health_window: Duration,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            history_capacity: 10_000,
            frequency_threshold: 5,
            frequency_window: Duration::from_secs(10 * 60),
            burst_threshold: 10,
            burst_window: Duration::from_secs(5 * 60),
            agent_threshold: 20,
            agent_window: Duration::from_secs(30 * 60),
            cascade_threshold: 3,
            cascade_window: Duration::from_secs(5 * 60),
            cascade_similarity: 0.7,
            similarity_weights: SimilarityWeights::default(),
            similarity_time: Duration::from_secs(60),
            health_window: Duration::from_secs(60),
        }
    }
}

/// The weights of the similarity of two errors: the sum of the weights of what they
/// share. Two errors share an operation (or an integration) when both have the same one
/// or both have none, as in the reference algorithm.
///
/// ```
/// use resilience::monitor::SimilarityWeights;
///
/// let w = SimilarityWeights::default();
/// assert_eq!((w.error_type, w.operation, w.integration, w.time), (0.4, 0.3, 0.2, 0.1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimilarityWeights {
    /// Same error type (its code).
    pub error_type: f64,
    /// Same operation.
    pub operation: f64,
    /// Same integration.
    pub integration: f64,
    /// Less than `similarity_time` apart.
    pub time: f64,
}

impl Default for SimilarityWeights {
    fn default() -> Self {
        SimilarityWeights {
            error_type: 0.4,
            operation: 0.3,
            integration: 0.2,
            time: 0.1,
        }
    }
}

impl SimilarityWeights {
    /// The sum of all weights: the similarity of an error with itself.
    ///
    /// ```
    /// let w = resilience::monitor::SimilarityWeights::default();
    /// assert!((w.total() - 1.0).abs() < 1e-9);
    /// ```
    pub fn total(&self) -> f64 {
        self.error_type + self.operation + self.integration + self.time
    }
}

/// The most records a monitor's history keeps (`history_capacity`): a bound, so a
/// configuration cannot make the monitor's memory unbounded.
pub const MAX_HISTORY: usize = 1_000_000;

impl MonitorConfig {
    /// Checks every field; the error names the first refused field and its value.
    ///
    /// ```
    /// use resilience::monitor::MonitorConfig;
    ///
    /// assert!(MonitorConfig::default().validate().is_ok());
    /// let err = MonitorConfig { history_capacity: 0, ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("history_capacity", "0"));
    /// let err = MonitorConfig { history_capacity: usize::MAX, ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "history_capacity");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let counts = [
            ("history_capacity", self.history_capacity),
            ("frequency_threshold", self.frequency_threshold),
            ("burst_threshold", self.burst_threshold),
            ("agent_threshold", self.agent_threshold),
            ("cascade_threshold", self.cascade_threshold),
        ];
        for (field, value) in counts {
            if value == 0 {
                return Err(ConfigError::new(field, value, "must be at least 1"));
            }
        }
        if self.history_capacity > MAX_HISTORY {
            return Err(ConfigError::new(
                "history_capacity",
                self.history_capacity,
                format!("must be at most {MAX_HISTORY}: the history is kept in memory, and every `health()` reads it"),
            ));
        }
        let windows = [
            ("frequency_window", self.frequency_window),
            ("burst_window", self.burst_window),
            ("agent_window", self.agent_window),
            ("cascade_window", self.cascade_window),
            ("similarity_time", self.similarity_time),
            ("health_window", self.health_window),
        ];
        for (field, value) in windows {
            if value.is_zero() {
                return Err(ConfigError::new(field, value, "must be longer than zero"));
            }
            crate::config_error::at_most_max_duration(field, value)?;
        }
        let w = &self.similarity_weights;
        let weights = [
            ("similarity_weights.error_type", w.error_type),
            ("similarity_weights.operation", w.operation),
            ("similarity_weights.integration", w.integration),
            ("similarity_weights.time", w.time),
        ];
        for (field, value) in weights {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ConfigError::new(
                    field,
                    value,
                    "must be a finite number, 0 or more",
                ));
            }
        }
        let s = self.cascade_similarity;
        if !(s.is_finite() && s > 0.0 && s <= 1.0) {
            return Err(ConfigError::new(
                "cascade_similarity",
                s,
                "must be a number above 0 and at most 1",
            ));
        }
        if w.total() + EPSILON < s {
            return Err(ConfigError::new(
                "cascade_similarity",
                s,
                format!(
                    "is above the sum of `similarity_weights` ({}), so no errors could ever be similar",
                    w.total()
                ),
            ));
        }
        Ok(())
    }
}
