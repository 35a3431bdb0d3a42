//! [`HedgeConfig`]: everything `#[hedge(...)]` can say, as a value.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration_serde;
use crate::ConfigError;

/// The most extra runs one call may start: each run is a whole call to the dependency,
/// so a larger fan-out is load, not resilience.
///
/// ```
/// assert_eq!(resilience::hedge::MAX_HEDGES, 16);
/// ```
pub const MAX_HEDGES: u32 = 16;

/// A hedge's policy: the attribute's keys (all but `name`) as public fields.
///
/// `Default` is a 50 ms delay and one hedge. It is not `#[non_exhaustive]`, so
/// struct-update syntax works. Serialized durations read and write as `"50ms"` (or a
/// number of seconds).
///
/// ```
/// use resilience::HedgeConfig;
/// use std::time::Duration;
///
/// let config = HedgeConfig { delay: Duration::from_millis(20), ..Default::default() };
/// assert_eq!(config.max_hedges, 1);
/// config.validate()?;
/// let bad = HedgeConfig { max_hedges: 0, ..Default::default() };
/// assert_eq!(bad.validate().unwrap_err().field(), "max_hedges");
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HedgeConfig {
    /// How long a run may go without an answer before the next run starts beside it
    /// (measured from the start of the call for the first hedge, from the start of the
    /// previous hedge for each later one). Zero starts every run at once.
    #[serde(with = "duration_serde")]
    pub delay: Duration,
    /// Extra runs a call may start, 1 to [`MAX_HEDGES`].
    pub max_hedges: u32,
}

impl Default for HedgeConfig {
    fn default() -> Self {
        HedgeConfig {
            delay: Duration::from_millis(50),
            max_hedges: 1,
        }
    }
}

impl HedgeConfig {
    /// Checks the values: `max_hedges` from 1 to [`MAX_HEDGES`], and a `delay` that
    /// fits in `u64` nanoseconds (584 years).
    ///
    /// ```
    /// use resilience::HedgeConfig;
    /// let err = HedgeConfig { max_hedges: 100, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("max_hedges", "100"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_hedges == 0 {
            return Err(ConfigError::new(
                "max_hedges",
                self.max_hedges,
                "must be at least 1 (a hedge that never starts a run is no hedge; remove it instead)",
            ));
        }
        if self.max_hedges > MAX_HEDGES {
            return Err(ConfigError::new(
                "max_hedges",
                self.max_hedges,
                format!(
                    "must be at most {MAX_HEDGES}: every hedge is one more call to the dependency"
                ),
            ));
        }
        if u64::try_from(self.delay.as_nanos()).is_err() {
            return Err(ConfigError::new(
                "delay",
                self.delay,
                "must be shorter than 584 years",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serde_form_names_the_keys_and_writes_durations_as_text() {
        let config = HedgeConfig {
            delay: Duration::from_millis(250),
            max_hedges: 2,
        };
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["max_hedges"], 2);
        let back: HedgeConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, config);
        let partial: HedgeConfig = serde_json::from_str(r#"{"delay": "10ms"}"#).unwrap();
        assert_eq!(partial.delay, Duration::from_millis(10));
        assert_eq!(partial.max_hedges, 1);
        assert!(serde_json::from_str::<HedgeConfig>(r#"{"hedges": 1}"#).is_err());
    }

    #[test]
    fn validation_names_the_field_and_the_value() {
        assert!(HedgeConfig::default().validate().is_ok());
        assert!(HedgeConfig {
            max_hedges: MAX_HEDGES,
            ..Default::default()
        }
        .validate()
        .is_ok());
        let zero = HedgeConfig {
            max_hedges: 0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!((zero.field(), zero.value()), ("max_hedges", "0"));
        let long = HedgeConfig {
            delay: Duration::MAX,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(long.field(), "delay");
    }
}
