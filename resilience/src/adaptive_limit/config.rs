//! [`AdaptiveLimitConfig`]: the keys of `#[adaptive_limit]`, and [`Algorithm`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scope::Scope;
use crate::ConfigError;

/// How the limit adapts; see the [module](super) for each.
///
/// ```
/// use resilience::adaptive_limit::Algorithm;
/// assert_eq!(Algorithm::default(), Algorithm::Gradient2);
/// assert_eq!(serde_json::to_value(Algorithm::Aimd).unwrap(), "aimd");
/// assert_eq!("vegas".parse::<Algorithm>(), Ok(Algorithm::Vegas));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// TCP Vegas: the queue the limit builds, `limit × (1 − rtt_noload / rtt)`, kept
    /// between `alpha` and `beta`.
    Vegas,
    /// Netflix's Gradient2: the limit times the ratio of the long-term to the
    /// short-term round-trip time, with a tolerance and a queue allowance.
    #[default]
    Gradient2,
    /// Additive increase (+1 while the limit is used), multiplicative decrease
    /// (× `backoff_ratio`) on a drop.
    Aimd,
}

impl Algorithm {
    /// The algorithm's name as written in the attribute and the config file.
    ///
    /// ```
    /// assert_eq!(resilience::adaptive_limit::Algorithm::Gradient2.as_str(), "gradient2");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Vegas => "vegas",
            Algorithm::Gradient2 => "gradient2",
            Algorithm::Aimd => "aimd",
        }
    }
}

impl core::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Algorithm {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Algorithm, ConfigError> {
        match s {
            "vegas" => Ok(Algorithm::Vegas),
            "gradient2" => Ok(Algorithm::Gradient2),
            "aimd" => Ok(Algorithm::Aimd),
            _ => Err(ConfigError::new(
                "algorithm",
                s,
                "must be one of `vegas`, `gradient2`, `aimd`",
            )),
        }
    }
}

/// An adaptive limit's configuration: public fields named as `#[adaptive_limit]`'s keys
/// (but `name` and `priority`), `Default` = the attribute's defaults.
///
/// ```
/// use resilience::adaptive_limit::Algorithm;
/// use resilience::AdaptiveLimitConfig;
/// use std::time::Duration;
///
/// let c = AdaptiveLimitConfig { algorithm: Algorithm::Vegas, max_limit: 50, ..Default::default() };
/// assert!(c.validate().is_ok());
/// let d = AdaptiveLimitConfig::default();
/// assert_eq!((d.min_limit, d.initial_limit, d.max_limit), (1, 20, 200));
/// assert_eq!(d.max_wait, Duration::ZERO);
/// assert_eq!(d.backoff_ratio, 0.9);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptiveLimitConfig {
    /// How the limit adapts. Default [`Algorithm::Gradient2`].
    pub algorithm: Algorithm,
    /// The limit never goes below this. Default 1.
    pub min_limit: u32,
    /// The limit never goes above this. Default 200.
    pub max_limit: u32,
    /// The limit before any call has been measured. Default 20.
    pub initial_limit: u32,
    /// How long a call over the limit waits for a place before it is refused. Default 0:
    /// refused at once. Priorities order the waiting calls, so they need a wait. Under a
    /// `#[timeout]` a call waits at most until its deadline
    /// ([`deadline::remaining`](crate::deadline::remaining)).
    #[serde(with = "crate::duration_serde")]
    pub max_wait: Duration,
    /// AIMD's decrease on a drop, in `[0.5, 1)`. Default 0.9.
    pub backoff_ratio: f64,
    /// Only [`Scope::Local`]: a limit of calls at once counts this process's calls (see
    /// the [module](super)).
    pub scope: Scope,
}

impl Default for AdaptiveLimitConfig {
    fn default() -> Self {
        AdaptiveLimitConfig {
            algorithm: Algorithm::Gradient2,
            min_limit: 1,
            max_limit: 200,
            initial_limit: 20,
            max_wait: Duration::ZERO,
            backoff_ratio: 0.9,
            scope: Scope::Local,
        }
    }
}

impl AdaptiveLimitConfig {
    /// Checks every field; an `Err` names the first field refused and its value.
    ///
    /// ```
    /// use resilience::AdaptiveLimitConfig;
    /// let err = AdaptiveLimitConfig { min_limit: 10, max_limit: 5, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("min_limit", "10"));
    /// let err = AdaptiveLimitConfig { max_limit: 0, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!(err.field(), "max_limit");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.min_limit == 0 {
            return Err(ConfigError::new(
                "min_limit",
                self.min_limit,
                "must be at least 1; a limit of 0 would refuse every call",
            ));
        }
        if self.max_limit == 0 {
            return Err(ConfigError::new(
                "max_limit",
                self.max_limit,
                "must be at least 1; a limit of 0 would refuse every call",
            ));
        }
        if self.min_limit > self.max_limit {
            return Err(ConfigError::new(
                "min_limit",
                self.min_limit,
                format!("must be at most max_limit ({})", self.max_limit),
            ));
        }
        if self.initial_limit == 0 {
            return Err(ConfigError::new(
                "initial_limit",
                self.initial_limit,
                "must be at least 1; a limit of 0 would refuse every call",
            ));
        }
        if self.initial_limit < self.min_limit || self.initial_limit > self.max_limit {
            return Err(ConfigError::new(
                "initial_limit",
                self.initial_limit,
                format!(
                    "must be within min_limit and max_limit ({}..={})",
                    self.min_limit, self.max_limit
                ),
            ));
        }
        if u64::try_from(self.max_wait.as_nanos()).is_err() {
            return Err(ConfigError::new(
                "max_wait",
                self.max_wait,
                "must be at most u64::MAX nanoseconds (about 584 years)",
            ));
        }
        if !(0.5..1.0).contains(&self.backoff_ratio) {
            return Err(ConfigError::new(
                "backoff_ratio",
                self.backoff_ratio,
                "must be at least 0.5 and below 1",
            ));
        }
        if self.scope == Scope::Cluster {
            return Err(ConfigError::new(
                "scope",
                self.scope.as_str(),
                "an adaptive limit is per process: it counts the calls this process has in flight and adapts to the latency this process sees; use `local`",
            ));
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named() {
        let bad = |c: AdaptiveLimitConfig| c.validate().unwrap_err().field();
        let d = AdaptiveLimitConfig::default;
        assert_eq!(
            bad(AdaptiveLimitConfig {
                min_limit: 0,
                ..d()
            }),
            "min_limit"
        );
        assert_eq!(
            bad(AdaptiveLimitConfig {
                initial_limit: 0,
                ..d()
            }),
            "initial_limit"
        );
        assert_eq!(
            bad(AdaptiveLimitConfig {
                initial_limit: 500,
                ..d()
            }),
            "initial_limit"
        );
        assert_eq!(
            bad(AdaptiveLimitConfig {
                backoff_ratio: 1.0,
                ..d()
            }),
            "backoff_ratio"
        );
        assert_eq!(
            bad(AdaptiveLimitConfig {
                backoff_ratio: f64::NAN,
                ..d()
            }),
            "backoff_ratio"
        );
        assert_eq!(
            bad(AdaptiveLimitConfig {
                scope: Scope::Cluster,
                ..d()
            }),
            "scope"
        );
        assert_eq!(
            bad(AdaptiveLimitConfig {
                max_wait: Duration::MAX,
                ..d()
            }),
            "max_wait"
        );
    }

    #[test]
    fn it_reads_back_from_its_serde_form() {
        let c = AdaptiveLimitConfig {
            algorithm: Algorithm::Vegas,
            max_wait: Duration::from_millis(250),
            ..Default::default()
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["algorithm"], "vegas");
        assert_eq!(json["max_wait"], "250ms");
        let back: AdaptiveLimitConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }
}
