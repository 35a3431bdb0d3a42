//! [`RateLimitConfig`]: the keys of `#[rate_limit]`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{ConfigError, Scope};

/// A rate limiter's configuration: public fields named as `#[rate_limit]`'s keys (but
/// `name` and `key`), `Default` = the attribute's defaults.
///
/// ```
/// use resilience::RateLimitConfig;
/// use std::time::Duration;
///
/// let c = RateLimitConfig { limit: 500, per: Duration::from_secs(60), ..Default::default() };
/// assert!(c.validate().is_ok());
/// assert_eq!(c.burst(), 500);             // default: the limit
/// assert_eq!(c.interval(), Duration::from_millis(120));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Calls admitted per `per` at the long-run rate (after a quiet spell, up to `burst`
    /// pass at once). Default 100.
    pub limit: u32,
    /// The period `limit` is counted over. Default 1 s.
    #[serde(with = "crate::duration_serde")]
    pub per: Duration,
    /// Calls admitted at once after a quiet spell; `None` = `limit`.
    pub burst: Option<u32>,
    /// How long a call may be delayed to fit the rate before it is refused instead.
    /// Default 0: refused at once.
    #[serde(with = "crate::duration_serde")]
    pub max_delay: Duration,
    /// With `key = expr`: keys kept live at most (at least 1). Past it a new key takes the
    /// place of a limiter back at its full burst, least recently used first; a limiter
    /// with spent tokens is never forgotten, so while every one has, a new key is
    /// refused (`RateLimited`). Default 1024.
    pub max_keys: usize,
    /// [`Scope::Cluster`]: one limit shared by every instance connected to the cluster's
    /// Redis (feature `redis`, see `resilience::cluster`), on an `async fn` without
    /// `key`; local before `cluster::connect` or without the feature. Default
    /// [`Scope::Local`].
    pub scope: Scope,
    /// With `scope = cluster`: the instances expected to share the limit; while Redis is
    /// unreachable each admits `limit / expected_instances` (at least 1) locally.
    /// Default 1.
    pub expected_instances: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            limit: 100,
            per: Duration::from_secs(1),
            burst: None,
            max_delay: Duration::ZERO,
            max_keys: crate::keyed::DEFAULT_MAX_KEYS,
            scope: Scope::Local,
            expected_instances: 1,
        }
    }
}

impl RateLimitConfig {
    /// The burst in force: `burst`, or `limit` when not given.
    ///
    /// ```
    /// let c = resilience::RateLimitConfig { limit: 7, ..Default::default() };
    /// assert_eq!(c.burst(), 7);
    /// ```
    pub fn burst(&self) -> u32 {
        self.burst.unwrap_or(self.limit)
    }

    /// The time between two calls at the steady rate: `per / limit`.
    ///
    /// ```
    /// let c = resilience::RateLimitConfig { limit: 4, per: std::time::Duration::from_secs(1), ..Default::default() };
    /// assert_eq!(c.interval(), std::time::Duration::from_millis(250));
    /// ```
    pub fn interval(&self) -> Duration {
        self.per / self.limit.max(1)
    }

    /// Checks every field; an `Err` names the first field refused and its value.
    ///
    /// ```
    /// use resilience::RateLimitConfig;
    /// let err = RateLimitConfig { limit: 0, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("limit", "0"));
    /// let err = RateLimitConfig { per: std::time::Duration::ZERO, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!(err.field(), "per");
    /// // Durations are at most 3650 days (about ten years).
    /// let err = RateLimitConfig { limit: 1, per: std::time::Duration::from_nanos(u64::MAX), ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "per");
    /// let err = RateLimitConfig {
    ///     scope: resilience::Scope::Cluster,
    ///     max_delay: std::time::Duration::from_millis(10),
    ///     ..Default::default()
    /// }
    /// .validate()
    /// .unwrap_err();
    /// assert_eq!(err.field(), "max_delay");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.limit == 0 {
            return Err(ConfigError::new(
                "limit",
                self.limit,
                "must be at least 1; a limit of 0 would refuse every call",
            ));
        }
        if self.per.is_zero() {
            return Err(ConfigError::new(
                "per",
                self.per,
                "must be longer than zero",
            ));
        }
        crate::config_error::at_most_max_duration("per", self.per)?;
        if self.interval().is_zero() {
            return Err(ConfigError::new(
                "limit",
                self.limit,
                "is more than one call per nanosecond of `per`",
            ));
        }
        if self.burst == Some(0) {
            return Err(ConfigError::new(
                "burst",
                0,
                "must be at least 1; a burst of 0 would refuse every call",
            ));
        }
        crate::config_error::at_most_max_duration("max_delay", self.max_delay)?;
        if self.interval().saturating_mul(self.burst()) > crate::config_error::MAX_DURATION {
            return Err(ConfigError::new(
                "burst",
                self.burst(),
                format!(
                    "spans more than 3650 days at one call every {:?} (`per / limit`): the limiter could not keep it",
                    self.interval()
                ),
            ));
        }
        if self.max_keys == 0 {
            return Err(ConfigError::new(
                "max_keys",
                self.max_keys,
                "must be at least 1",
            ));
        }
        if self.expected_instances == 0 {
            return Err(ConfigError::new(
                "expected_instances",
                0,
                "must be at least 1",
            ));
        }
        if self.scope == Scope::Cluster {
            self.validate_cluster()?;
        }
        Ok(())
    }

    /// The rules of `scope = cluster`: Redis counts in microseconds, and admits or
    /// refuses without reserving a later place.
    fn validate_cluster(&self) -> Result<(), ConfigError> {
        if self.per.as_micros() < u128::from(self.limit) {
            return Err(ConfigError::new(
                "per",
                self.per,
                format!(
                    "must be at least 1us per call with `scope = cluster` (limit = {}): the cluster counts in microseconds",
                    self.limit
                ),
            ));
        }
        if !self.max_delay.is_zero() {
            return Err(ConfigError::new(
                "max_delay",
                self.max_delay,
                "must be 0 with `scope = cluster`: a cluster admission is decided at once, no place is reserved ahead",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::RateLimitConfig;
    use crate::Scope;

    fn cluster() -> RateLimitConfig {
        RateLimitConfig {
            scope: Scope::Cluster,
            ..Default::default()
        }
    }

    #[test]
    fn the_cluster_scope_is_validated_with_errors_naming_the_field() {
        assert!(cluster().validate().is_ok());
        let cases = [
            (
                RateLimitConfig {
                    expected_instances: 0,
                    ..cluster()
                },
                "expected_instances",
                "0",
            ),
            (
                RateLimitConfig {
                    max_delay: Duration::from_millis(5),
                    ..cluster()
                },
                "max_delay",
                "5ms",
            ),
            (
                // 2 000 calls per millisecond: finer than the cluster's microsecond.
                RateLimitConfig {
                    limit: 2_000,
                    per: Duration::from_millis(1),
                    ..cluster()
                },
                "per",
                "1ms",
            ),
        ];
        for (config, field, value) in cases {
            let err = config.validate().unwrap_err();
            assert_eq!((err.field(), err.value()), (field, value), "{err}");
        }
        // The same values are fine locally (but `expected_instances = 0`).
        let local = RateLimitConfig {
            limit: 2_000,
            per: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..Default::default()
        };
        assert!(local.validate().is_ok());
        assert_eq!(
            RateLimitConfig {
                expected_instances: 0,
                ..Default::default()
            }
            .validate()
            .unwrap_err()
            .field(),
            "expected_instances"
        );
    }

    #[test]
    fn the_scope_reads_and_writes_as_in_the_config_file() {
        let config: RateLimitConfig =
            serde_json::from_str(r#"{"limit": 5, "scope": "cluster", "expected_instances": 3}"#)
                .unwrap();
        assert_eq!(
            (config.scope, config.expected_instances),
            (Scope::Cluster, 3)
        );
        let json = serde_json::to_value(RateLimitConfig::default()).unwrap();
        assert_eq!(
            (&json["scope"], &json["expected_instances"]),
            (&"local".into(), &1.into())
        );
    }
}
