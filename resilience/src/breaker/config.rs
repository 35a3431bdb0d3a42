//! [`BreakerConfig`]: what opens and closes a breaker, and the rules a config must keep.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration_serde;
use crate::ConfigError;
use crate::Scope;

/// The largest `quorum` of a cluster-scoped breaker.
pub const MAX_QUORUM: u32 = 1_000;

/// The largest `failure_threshold` and `success_threshold` (they live in 21 bits of the
/// breaker's state word).
pub const MAX_THRESHOLD: u32 = 1_000_000;
/// The largest `half_open_max_calls` (16 bits of the state word).
pub const MAX_HALF_OPEN_CALLS: u32 = 65_535;
/// The largest `window_size` and `max_failures_per_window` (one slot each per breaker).
pub const MAX_WINDOW_LEN: u32 = 100_000;
/// The shortest `rate_window`: a second, as resilience4j's shortest time window. The
/// window moves in sixty-fourths of its length, read on a clock that may be a few
/// milliseconds coarse, so a shorter one would hold more noise than calls.
///
/// ```
/// use resilience::{breaker::MIN_RATE_WINDOW, BreakerConfig};
/// let half = Some(MIN_RATE_WINDOW / 2);
/// let config = BreakerConfig { failure_rate: Some(50.0), rate_window: half, ..Default::default() };
/// assert_eq!(config.validate().unwrap_err().field(), "rate_window");
/// ```
pub const MIN_RATE_WINDOW: Duration = Duration::from_secs(1);
/// The longest `rate_window`: a day. A longer one keeps failures long after the
/// dependency recovered, which is what the count window already does.
///
/// ```
/// use resilience::{breaker::MAX_RATE_WINDOW, BreakerConfig};
/// let day = Some(MAX_RATE_WINDOW);
/// let config = BreakerConfig { failure_rate: Some(50.0), rate_window: day, ..Default::default() };
/// assert!(config.validate().is_ok());
/// ```
pub const MAX_RATE_WINDOW: Duration = Duration::from_secs(86_400);
/// The default `window_size`; with `rate_window` it must stay at it.
const DEFAULT_WINDOW_SIZE: u32 = 100;

/// What opens and closes a circuit breaker.
///
/// The fields are the keys of `#[circuit_breaker(...)]` (all but `name` and `record_if`),
/// and [`Default`] is the attribute's defaults, so struct-update syntax reads like the
/// attribute. Consecutive failures always count; the window, failure-rate and slow-call
/// rules are off until set, and any rule that fires opens the breaker.
///
/// ```
/// use resilience::BreakerConfig;
/// use std::time::Duration;
///
/// let config = BreakerConfig {
///     failure_threshold: 3,
///     recovery_timeout: Duration::from_secs(30),
///     failure_rate: Some(50.0),
///     ..Default::default()
/// };
/// assert!(config.validate().is_ok());
/// assert_eq!(config.success_threshold, 2);
///
/// // Durations serialize as people write them.
/// let json = serde_json::to_value(&config).unwrap();
/// assert_eq!(json["recovery_timeout"], "30s");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker (1 ..= 1 000 000). Default 5.
    pub failure_threshold: u32,
    /// Successful trial calls in half-open that close it (1 ..= 1 000 000). Default 2.
    pub success_threshold: u32,
    /// Time open before a trial call is let through (millisecond resolution, more than
    /// zero). Default 60 s. The first open period after the breaker was closed; see
    /// `recovery_factor` for the ones after a failed trial.
    #[serde(with = "duration_serde")]
    pub recovery_timeout: Duration,
    /// How much longer each open period is than the last while trials keep failing
    /// (at least 1, finite). Default 1: every open period is `recovery_timeout`.
    ///
    /// After `n` failed half-open trials in a row, the breaker stays open for
    /// `recovery_timeout × recovery_factor^n`, at most `max_recovery_timeout`; a closing
    /// starts again from `recovery_timeout`. [`CircuitOpen::retry_after`](super::CircuitOpen::retry_after)
    /// and the snapshot's `open_period` say the current one.
    pub recovery_factor: f64,
    /// With `recovery_factor` above 1: the longest open period (at least
    /// `recovery_timeout`). Default none: the period grows without a cap.
    #[serde(with = "duration_serde::option")]
    pub max_recovery_timeout: Option<Duration>,
    /// Trial calls let through at once in half-open (1 ..= 65 535). Default 1.
    pub half_open_max_calls: u32,
    /// With `max_failures_per_window`: open on that many failures within this time,
    /// consecutive or not. Default off.
    #[serde(with = "duration_serde::option")]
    pub window: Option<Duration>,
    /// With `window`: the failures (1 ..= 100 000) within it that open the breaker.
    pub max_failures_per_window: Option<u32>,
    /// Open when this percentage (0 ..= 100) of the last `window_size` calls failed,
    /// once `minimum_calls` are in the window. Checked at every recorded outcome, a
    /// success included, as resilience4j does: with a window of 5 at 50 %, failure,
    /// failure, failure, success, success opens on the fifth call. A rate needs at least
    /// one failure in the window, so a rate of 0 opens at the first outcome that finds
    /// one there with `minimum_calls` reached. Default off.
    pub failure_rate: Option<f64>,
    /// Calls the window must hold before a rate can open the breaker (at least 1, and
    /// at most `window_size` with the count-based window). Default 10.
    pub minimum_calls: u32,
    /// Calls the count-based window remembers for `failure_rate` and `slow_call_rate`
    /// (1 ..= 100 000). Default 100. Left at its default when `rate_window` is set.
    pub window_size: u32,
    /// The rates over the calls of the last `rate_window` instead of the last
    /// `window_size` calls: a time-based window (resilience4j's `TIME_BASED`), between
    /// [`MIN_RATE_WINDOW`] and [`MAX_RATE_WINDOW`]. Needs `failure_rate` or
    /// `slow_call_rate`. Default off.
    ///
    /// The window moves in steps of a sixty-fourth of its length: a call counts for at
    /// least 63/64 of `rate_window` and at most all of it. A quiet period forgets the
    /// calls before it, so a rate is never computed over failures older than the window.
    #[serde(with = "duration_serde::option")]
    pub rate_window: Option<Duration>,
    /// With `slow_call_rate`: a call that takes longer than this is slow. Default off.
    #[serde(with = "duration_serde::option")]
    pub slow_call: Option<Duration>,
    /// With `slow_call`: open when this percentage (0 ..= 100) of the window was slow
    /// (checked as `failure_rate` is, at every recorded outcome).
    pub slow_call_rate: Option<f64>,
    /// A breaker whose refusal this one shares (registry breakers only; the registry
    /// links it). Default none.
    ///
    /// A call is refused while the parent, or any ancestor up the chain, is open and
    /// still within its recovery timeout, or forced open; the refusal names that
    /// ancestor. A parent that is closed, half-open or disabled, or open past its
    /// recovery timeout (its next call would be its trial), lets the child's calls
    /// through, and they take none of the parent's trial places.
    pub parent: Option<Cow<'static, str>>,
    /// [`Scope::Cluster`]: openings and closings shared through Redis (feature `redis`,
    /// see `resilience::cluster`); a call through a closed breaker never waits on it.
    /// Default [`Scope::Local`].
    pub scope: Scope,
    /// With `scope = cluster`: distinct live instances (1 ..= 1 000) that must have the
    /// breaker open before it opens on every instance. Default 1.
    pub quorum: u32,
    /// With `key = expr`: keys whose breakers live at once, at most (at least 1); past
    /// it a new key takes the place of the breaker whose loss changes least (see
    /// `docs/keys.md`). Default 1024.
    pub max_keys: usize,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            success_threshold: 2,
            recovery_timeout: Duration::from_secs(60),
            recovery_factor: 1.0,
            max_recovery_timeout: None,
            half_open_max_calls: 1,
            window: None,
            max_failures_per_window: None,
            failure_rate: None,
            minimum_calls: 10,
            window_size: DEFAULT_WINDOW_SIZE,
            rate_window: None,
            slow_call: None,
            slow_call_rate: None,
            parent: None,
            scope: Scope::Local,
            quorum: 1,
            max_keys: crate::keyed::DEFAULT_MAX_KEYS,
        }
    }
}

impl BreakerConfig {
    /// Checks every rule; the first broken one is an error naming the field and value.
    ///
    /// ```
    /// use resilience::BreakerConfig;
    ///
    /// let err = BreakerConfig { failure_rate: Some(120.0), ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "failure_rate");
    /// assert_eq!(err.value(), "120.0");
    ///
    /// let err = BreakerConfig { window: Some(std::time::Duration::from_secs(10)), ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "max_failures_per_window");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        bounded("failure_threshold", self.failure_threshold, MAX_THRESHOLD)?;
        bounded("success_threshold", self.success_threshold, MAX_THRESHOLD)?;
        bounded(
            "half_open_max_calls",
            self.half_open_max_calls,
            MAX_HALF_OPEN_CALLS,
        )?;
        if self.recovery_timeout.is_zero() {
            return Err(ConfigError::new(
                "recovery_timeout",
                self.recovery_timeout,
                "must be greater than zero",
            ));
        }
        crate::config_error::at_most_max_duration("recovery_timeout", self.recovery_timeout)?;
        match (self.window, self.max_failures_per_window) {
            (Some(w), _) if w.is_zero() => {
                return Err(ConfigError::new("window", w, "must be greater than zero"));
            }
            (Some(_), Some(n)) => bounded("max_failures_per_window", n, MAX_WINDOW_LEN)?,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "max_failures_per_window",
                    None::<u32>,
                    "must be set when `window` is",
                ));
            }
            (None, Some(n)) => {
                return Err(ConfigError::new(
                    "window",
                    None::<Duration>,
                    format!("must be set when `max_failures_per_window` is ({n})"),
                ));
            }
            (None, None) => {}
        }
        self.validate_recovery()?;
        percent("failure_rate", self.failure_rate)?;
        percent("slow_call_rate", self.slow_call_rate)?;
        bounded("window_size", self.window_size, MAX_WINDOW_LEN)?;
        if self.minimum_calls == 0 {
            return Err(ConfigError::new("minimum_calls", 0, "must be at least 1"));
        }
        self.validate_rate_window()?;
        if self.rate_window.is_none() && self.minimum_calls > self.window_size {
            return Err(ConfigError::new(
                "minimum_calls",
                self.minimum_calls,
                format!("must not exceed `window_size` ({})", self.window_size),
            ));
        }
        match (self.slow_call, self.slow_call_rate) {
            (Some(d), _) if d.is_zero() => {
                return Err(ConfigError::new(
                    "slow_call",
                    d,
                    "must be greater than zero",
                ));
            }
            (Some(d), None) => {
                return Err(ConfigError::new(
                    "slow_call_rate",
                    None::<f64>,
                    format!("must be set when `slow_call` is ({d:?})"),
                ));
            }
            (None, Some(rate)) => {
                return Err(ConfigError::new(
                    "slow_call",
                    None::<Duration>,
                    format!("must be set when `slow_call_rate` is ({rate})"),
                ));
            }
            _ => {}
        }
        bounded("quorum", self.quorum, MAX_QUORUM)?;
        if self.max_keys == 0 {
            return Err(ConfigError::new("max_keys", 0, "must be at least 1"));
        }
        if let Some(parent) = &self.parent {
            if parent.trim().is_empty() {
                return Err(ConfigError::new("parent", parent, "must name a breaker"));
            }
        }
        Ok(())
    }
}

impl BreakerConfig {
    /// The longest open period this configuration gives: `recovery_timeout` when the
    /// period does not grow, else `max_recovery_timeout`, or without one the limit of a
    /// breaker's deadline (about 34 years). What another instance may rightly say an
    /// opening of this breaker lasts.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn longest_open_period(&self) -> Duration {
        if self.recovery_factor > 1.0 {
            self.max_recovery_timeout
                .unwrap_or(Duration::from_millis(super::state::MAX_DEADLINE_MS))
        } else {
            self.recovery_timeout
        }
    }

    /// `recovery_factor` and `max_recovery_timeout`.
    fn validate_recovery(&self) -> Result<(), ConfigError> {
        let factor = self.recovery_factor;
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(ConfigError::new(
                "recovery_factor",
                factor,
                "must be a finite number of at least 1 (1 keeps every open period at `recovery_timeout`)",
            ));
        }
        match self.max_recovery_timeout {
            Some(max) if max < self.recovery_timeout => Err(ConfigError::new(
                "max_recovery_timeout",
                max,
                format!(
                    "must be at least `recovery_timeout` ({})",
                    humantime::format_duration(self.recovery_timeout)
                ),
            )),
            Some(max) if factor == 1.0 => Err(ConfigError::new(
                "max_recovery_timeout",
                max,
                "caps an open period that grows: set `recovery_factor` above 1, or remove it",
            )),
            _ => Ok(()),
        }
    }

    /// `rate_window`: in range, with a rate to compute, instead of `window_size`.
    fn validate_rate_window(&self) -> Result<(), ConfigError> {
        let Some(window) = self.rate_window else {
            return Ok(());
        };
        if !(MIN_RATE_WINDOW..=MAX_RATE_WINDOW).contains(&window) {
            return Err(ConfigError::new(
                "rate_window",
                window,
                format!(
                    "must be between {} and {}",
                    humantime::format_duration(MIN_RATE_WINDOW),
                    humantime::format_duration(MAX_RATE_WINDOW)
                ),
            ));
        }
        if self.window_size != DEFAULT_WINDOW_SIZE {
            return Err(ConfigError::new(
                "window_size",
                self.window_size,
                "cannot be set with `rate_window`: the rates are over the calls of the last \
                 `rate_window`, not the last `window_size` calls; keep one of the two",
            ));
        }
        if self.failure_rate.is_none() && self.slow_call_rate.is_none() {
            return Err(ConfigError::new(
                "rate_window",
                window,
                "holds the calls a rate is computed over: set `failure_rate` or `slow_call_rate` too",
            ));
        }
        Ok(())
    }
}

fn bounded(field: &'static str, value: u32, max: u32) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::new(field, value, "must be at least 1"))
    } else if value > max {
        Err(ConfigError::new(
            field,
            value,
            format!("must be at most {max}"),
        ))
    } else {
        Ok(())
    }
}

fn percent(field: &'static str, value: Option<f64>) -> Result<(), ConfigError> {
    match value {
        Some(p) if !(0.0..=100.0).contains(&p) => Err(ConfigError::new(
            field,
            p,
            "must be a percentage between 0 and 100",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(c: BreakerConfig) -> (&'static str, String) {
        let e = c.validate().unwrap_err();
        (e.field(), e.value().to_owned())
    }

    #[test]
    fn the_default_is_valid() {
        assert_eq!(BreakerConfig::default().validate(), Ok(()));
    }

    #[test]
    fn each_rule_names_its_field_and_value() {
        let d = BreakerConfig::default;
        let cases = [
            (
                BreakerConfig {
                    failure_threshold: 0,
                    ..d()
                },
                "failure_threshold",
                "0",
            ),
            (
                BreakerConfig {
                    success_threshold: 2_000_000,
                    ..d()
                },
                "success_threshold",
                "2000000",
            ),
            (
                BreakerConfig {
                    half_open_max_calls: 0,
                    ..d()
                },
                "half_open_max_calls",
                "0",
            ),
            (
                BreakerConfig {
                    recovery_timeout: Duration::ZERO,
                    ..d()
                },
                "recovery_timeout",
                "0ns",
            ),
            (
                BreakerConfig {
                    failure_rate: Some(f64::NAN),
                    ..d()
                },
                "failure_rate",
                "NaN",
            ),
            (
                BreakerConfig {
                    slow_call_rate: Some(-1.0),
                    ..d()
                },
                "slow_call_rate",
                "-1.0",
            ),
            (
                BreakerConfig {
                    max_failures_per_window: Some(3),
                    ..d()
                },
                "window",
                "None",
            ),
            (
                BreakerConfig {
                    window: Some(Duration::from_secs(1)),
                    max_failures_per_window: Some(0),
                    ..d()
                },
                "max_failures_per_window",
                "0",
            ),
            (
                BreakerConfig {
                    minimum_calls: 101,
                    ..d()
                },
                "minimum_calls",
                "101",
            ),
            (
                BreakerConfig {
                    window_size: 0,
                    ..d()
                },
                "window_size",
                "0",
            ),
            (
                BreakerConfig {
                    slow_call_rate: Some(10.0),
                    ..d()
                },
                "slow_call",
                "None",
            ),
            (
                BreakerConfig {
                    slow_call: Some(Duration::from_millis(5)),
                    ..d()
                },
                "slow_call_rate",
                "None",
            ),
            (BreakerConfig { quorum: 0, ..d() }, "quorum", "0"),
            (
                BreakerConfig {
                    scope: Scope::Cluster,
                    quorum: 1_001,
                    ..d()
                },
                "quorum",
                "1001",
            ),
            (
                BreakerConfig {
                    parent: Some("".into()),
                    ..d()
                },
                "parent",
                "\"\"",
            ),
            (
                BreakerConfig {
                    recovery_factor: 0.5,
                    ..d()
                },
                "recovery_factor",
                "0.5",
            ),
            (
                BreakerConfig {
                    recovery_factor: f64::NAN,
                    ..d()
                },
                "recovery_factor",
                "NaN",
            ),
            (
                BreakerConfig {
                    recovery_factor: f64::INFINITY,
                    ..d()
                },
                "recovery_factor",
                "inf",
            ),
            (
                BreakerConfig {
                    recovery_factor: 2.0,
                    max_recovery_timeout: Some(Duration::from_secs(30)),
                    ..d()
                },
                "max_recovery_timeout",
                "30s",
            ),
            (
                BreakerConfig {
                    max_recovery_timeout: Some(Duration::from_secs(120)),
                    ..d()
                },
                "max_recovery_timeout",
                "120s",
            ),
            (
                BreakerConfig {
                    failure_rate: Some(50.0),
                    rate_window: Some(Duration::ZERO),
                    ..d()
                },
                "rate_window",
                "0ns",
            ),
            (
                BreakerConfig {
                    failure_rate: Some(50.0),
                    rate_window: Some(Duration::from_millis(500)),
                    ..d()
                },
                "rate_window",
                "500ms",
            ),
            (
                BreakerConfig {
                    failure_rate: Some(50.0),
                    rate_window: Some(Duration::MAX),
                    ..d()
                },
                "rate_window",
                &format!("{:?}", Duration::MAX),
            ),
            (
                BreakerConfig {
                    failure_rate: Some(50.0),
                    rate_window: Some(Duration::from_secs(30)),
                    window_size: 20,
                    ..d()
                },
                "window_size",
                "20",
            ),
            (
                BreakerConfig {
                    rate_window: Some(Duration::from_secs(30)),
                    ..d()
                },
                "rate_window",
                "30s",
            ),
        ];
        for (config, field, value) in cases {
            assert_eq!(field_of(config), (field, value.to_owned()));
        }
    }

    #[test]
    fn a_time_window_takes_any_minimum_of_calls_and_the_growth_its_cap() {
        let time = BreakerConfig {
            failure_rate: Some(50.0),
            rate_window: Some(Duration::from_secs(30)),
            minimum_calls: 500,
            ..BreakerConfig::default()
        };
        assert_eq!(time.validate(), Ok(()), "no `window_size` to stay under");
        let growing = BreakerConfig {
            recovery_timeout: Duration::from_secs(1),
            recovery_factor: 2.0,
            max_recovery_timeout: Some(Duration::from_secs(1)),
            ..BreakerConfig::default()
        };
        assert_eq!(
            growing.validate(),
            Ok(()),
            "a cap equal to the first period"
        );
        let json = serde_json::to_value(&growing).unwrap();
        assert_eq!(json["recovery_factor"], 2.0);
        assert_eq!(json["max_recovery_timeout"], "1s");
        assert_eq!(
            serde_json::from_value::<BreakerConfig>(json).unwrap(),
            growing
        );
    }

    #[test]
    fn serde_round_trips_and_accepts_numbers_of_seconds() {
        let c = BreakerConfig {
            window: Some(Duration::from_millis(1500)),
            max_failures_per_window: Some(4),
            parent: Some("kanban".into()),
            ..Default::default()
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<BreakerConfig>(&json).unwrap(), c);

        let c: BreakerConfig =
            serde_json::from_str(r#"{"recovery_timeout": 2.5, "slow_call": "200ms"}"#).unwrap();
        assert_eq!(c.recovery_timeout, Duration::from_millis(2500));
        assert_eq!(c.slow_call, Some(Duration::from_millis(200)));
        assert!(serde_json::from_str::<BreakerConfig>(r#"{"treshold": 1}"#).is_err());
    }
}
