//! [`ConfigError`]: an invalid value given at run time, named with its field.

use std::borrow::Cow;
use std::time::Duration;

/// The longest duration any configuration field takes: 3 650 days (about ten years).
/// Every pattern keeps its times as nanoseconds (or a breaker's deadline as milliseconds
/// in 40 bits, 34.8 years) counted from the process's start; a longer setting would not
/// fit, and is refused rather than silently shortened.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(3_650 * 86_400);

/// Refuses a duration longer than [`MAX_DURATION`], naming `field` and the value.
pub(crate) fn at_most_max_duration(
    field: &'static str,
    value: Duration,
) -> Result<(), ConfigError> {
    if value > MAX_DURATION {
        return Err(ConfigError::new(
            field,
            value,
            "must be at most 3650 days (about ten years), the longest duration a pattern keeps",
        ));
    }
    Ok(())
}

/// A configuration value that was refused: which field, what value, and why.
///
/// Every runtime `configure` call returns it instead of panicking.
///
/// ```
/// use resilience::{registry, BreakerConfig};
///
/// let err = registry()
///     .configure("payments", BreakerConfig { failure_threshold: 0, ..Default::default() })
///     .unwrap_err();
/// assert_eq!(err.field(), "failure_threshold");
/// assert_eq!(err.value(), "0");
/// assert!(err.to_string().contains("failure_threshold"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}` = {value}: {reason}")]
pub struct ConfigError {
    field: &'static str,
    value: String,
    reason: Cow<'static, str>,
}

impl ConfigError {
    /// A refusal of `value` for `field`, with the rule it broke (`"must be at least 1"`).
    ///
    /// ```
    /// let e = resilience::ConfigError::new("max_attempts", 0, "must be at least 1");
    /// assert_eq!(e.to_string(), "invalid `max_attempts` = 0: must be at least 1");
    /// ```
    pub fn new(
        field: &'static str,
        value: impl core::fmt::Debug,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        ConfigError {
            field,
            value: format!("{value:?}"),
            reason: reason.into(),
        }
    }

    /// The field that was refused, as named in the config struct and the attribute.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The refused value, as written by `Debug`.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The rule the value broke.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
