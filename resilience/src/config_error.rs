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

/// An attribute's configuration with each invalid field put back to its default, the
/// valid ones kept: `#[retry(max_attempts = 5, backoff = fixed(10ms), max_elapsed =
/// Duration::ZERO)]` keeps its 5 attempts and fixed backoff, and runs without
/// `max_elapsed`. Each field put back is an ERROR naming the attribute, the site, the
/// field and the value (target `resilience::config`).
///
/// Fields go back one at a time, through the configuration's serde form, until
/// `validate` passes; a configuration whose serde form does not read back to itself, or
/// that is still invalid after every field was tried, is the default whole (also an
/// ERROR).
pub(crate) fn valid_fields<C>(
    config: C,
    validate: fn(&C) -> Result<(), ConfigError>,
    attribute: &'static str,
    site: &str,
) -> C
where
    C: serde::Serialize + serde::de::DeserializeOwned + Default + PartialEq,
{
    let Err(first) = validate(&config) else {
        return config;
    };
    let defaults = serde_json::to_value(C::default()).ok();
    let mut written = serde_json::to_value(&config).ok();
    let reads_back = written
        .clone()
        .and_then(|v| serde_json::from_value::<C>(v).ok())
        .is_some_and(|back| back == config);
    let mut error = first;
    let mut tried: Vec<&'static str> = Vec::new();
    while let (true, Some(serde_json::Value::Object(fields)), Some(defaults)) =
        (reads_back, written.as_mut(), defaults.as_ref())
    {
        // `backoff.factor` was written as part of `backoff`.
        let field = error.field().split('.').next().unwrap_or(error.field());
        if tried.contains(&field) || !fields.contains_key(field) && defaults.get(field).is_none() {
            break;
        }
        tried.push(field);
        tracing::error!(
            target: "resilience::config",
            attribute,
            site,
            field = error.field(),
            value = error.value(),
            %error,
            "invalid key of an attribute; it is left at its default, the other keys are kept"
        );
        match defaults.get(field) {
            Some(default) => fields.insert(field.to_owned(), default.clone()),
            None => fields.remove(field),
        };
        let Ok(fixed) = serde_json::from_value::<C>(serde_json::Value::Object(fields.clone()))
        else {
            break;
        };
        match validate(&fixed) {
            Ok(()) => return fixed,
            Err(next) => error = next,
        }
    }
    tracing::error!(
        target: "resilience::config",
        attribute,
        site,
        %error,
        "invalid attribute configuration; using the defaults"
    );
    C::default()
}
