//! [`HealthScore`]: the reference's health formula and status names.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The system's health, 0 to 100, and what went into it.
///
/// The score follows the reference formula: start at 100; an error rate above 10 per
/// minute costs 30, above 5 costs 15, above 2 costs 5; any critical error costs 25;
/// each active pattern costs 10; the floor is 0. The rate, the critical errors and the
/// patterns' activity are read over
/// [`MonitorConfig::health_window`](super::MonitorConfig::health_window) (1 minute by
/// default: the rate is then the count of the last minute), so the score recovers as
/// calls succeed again, a window after the last error.
///
/// The rate counts only errors not [`recovered`](super::ErrorRecord::recovered) (whose
/// call retried to success or was answered by a fallback); the critical count sees every
/// error. A pattern is active for the score while it goes on: formed by errors not
/// recovered, the latest within the window. [`Monitor::patterns`](super::Monitor::patterns)
/// still lists every pattern over its own window (10 minutes for a frequency), as the
/// reference's alerts do: a drill in which every call was answered leaves patterns to
/// read, and a health of 100.
///
/// ```
/// use resilience::monitor::{HealthScore, HealthStatus};
///
/// // 6 errors a minute (−15), one critical (−25), two patterns (−20).
/// let h = HealthScore::from_counts(6.0, 1, 2);
/// assert_eq!((h.score, h.status), (40, HealthStatus::Poor));
/// assert_eq!(serde_json::to_value(&h).unwrap()["status"], "poor");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthScore {
    /// 0 (failing) to 100 (no trouble).
    pub score: u8,
    /// The score's band.
    pub status: HealthStatus,
    /// Errors per minute over the window.
    pub error_rate_per_minute: f64,
    /// Errors of severity critical in the window.
    pub critical_errors: usize,
    /// Patterns active now.
    pub active_patterns: usize,
    /// The window the rate and critical count were read over (serialized as `"30s"`;
    /// zero when computed from counts alone).
    #[serde(with = "crate::duration_serde")]
    pub window: Duration,
}

impl HealthScore {
    /// The score of these figures, by the reference formula.
    ///
    /// ```
    /// use resilience::monitor::HealthScore;
    ///
    /// assert_eq!(HealthScore::from_counts(0.0, 0, 0).score, 100);
    /// assert_eq!(HealthScore::from_counts(2.0, 0, 0).score, 100); // "above 2" is strict
    /// assert_eq!(HealthScore::from_counts(2.5, 0, 0).score, 95);
    /// assert_eq!(HealthScore::from_counts(11.0, 3, 9).score, 0);  // floored
    /// ```
    pub fn from_counts(
        error_rate_per_minute: f64,
        critical_errors: usize,
        active_patterns: usize,
    ) -> HealthScore {
        let rate_penalty = if error_rate_per_minute > 10.0 {
            30
        } else if error_rate_per_minute > 5.0 {
            15
        } else if error_rate_per_minute > 2.0 {
            5
        } else {
            0
        };
        let critical_penalty = if critical_errors > 0 { 25 } else { 0 };
        let pattern_penalty = active_patterns.saturating_mul(10);
        let score = 100usize
            .saturating_sub(rate_penalty)
            .saturating_sub(critical_penalty)
            .saturating_sub(pattern_penalty);
        let score = u8::try_from(score).unwrap_or(100);
        HealthScore {
            score,
            status: HealthStatus::from_score(score),
            error_rate_per_minute,
            critical_errors,
            active_patterns,
            window: Duration::ZERO,
        }
    }
}

/// The band of a health score, with the reference's names.
///
/// | score | status |
/// |---|---|
/// | 90–100 | `Excellent` |
/// | 75–89 | `Good` |
/// | 50–74 | `Fair` |
/// | 25–49 | `Poor` |
/// | 0–24 | `Critical` |
///
/// ```
/// use resilience::monitor::HealthStatus;
///
/// assert_eq!(HealthStatus::from_score(90), HealthStatus::Excellent);
/// assert_eq!(HealthStatus::from_score(89), HealthStatus::Good);
/// assert_eq!(HealthStatus::Fair.as_str(), "fair");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// 0–24.
    Critical,
    /// 25–49.
    Poor,
    /// 50–74.
    Fair,
    /// 75–89.
    Good,
    /// 90–100.
    Excellent,
}

impl HealthStatus {
    /// The band of `score` (scores above 100 are excellent).
    pub const fn from_score(score: u8) -> HealthStatus {
        match score {
            90.. => HealthStatus::Excellent,
            75..=89 => HealthStatus::Good,
            50..=74 => HealthStatus::Fair,
            25..=49 => HealthStatus::Poor,
            _ => HealthStatus::Critical,
        }
    }

    /// The name as serialized: `"excellent"`, `"good"`, `"fair"`, `"poor"`, `"critical"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Excellent => "excellent",
            HealthStatus::Good => "good",
            HealthStatus::Fair => "fair",
            HealthStatus::Poor => "poor",
            HealthStatus::Critical => "critical",
        }
    }
}

impl core::fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
