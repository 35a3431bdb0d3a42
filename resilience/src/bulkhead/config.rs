//! [`BulkheadConfig`]: the keys of `#[bulkhead]`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// A bulkhead's configuration: public fields named as `#[bulkhead]`'s keys (but `name`
/// and `key`), `Default` = the attribute's defaults.
///
/// ```
/// use resilience::BulkheadConfig;
/// use std::time::Duration;
///
/// let c = BulkheadConfig { max_concurrent: 4, max_wait: Duration::from_millis(100), ..Default::default() };
/// assert!(c.validate().is_ok());
/// assert_eq!(BulkheadConfig::default().max_concurrent, 10);
/// assert_eq!(BulkheadConfig::default().max_wait, Duration::ZERO);
/// assert_eq!(BulkheadConfig::default().max_keys, 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkheadConfig {
    /// Calls that may run at once. Default 10.
    pub max_concurrent: u32,
    /// How long a call waits for a place before it is refused. Default 0: refused at once.
    #[serde(with = "crate::duration_serde")]
    pub max_wait: Duration,
    /// With `key = expr`: keys kept live at most (at least 1). Past it a new key takes the
    /// place of an empty bulkhead, least recently used first; while every one has calls
    /// in it, a new key is refused (`BulkheadFull`). Default 1024.
    pub max_keys: usize,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadConfig {
            max_concurrent: 10,
            max_wait: Duration::ZERO,
            max_keys: crate::keyed::DEFAULT_MAX_KEYS,
        }
    }
}

impl BulkheadConfig {
    /// Checks every field; an `Err` names the first field refused and its value.
    ///
    /// ```
    /// use resilience::BulkheadConfig;
    /// let err = BulkheadConfig { max_concurrent: 0, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("max_concurrent", "0"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_concurrent == 0 {
            return Err(ConfigError::new(
                "max_concurrent",
                self.max_concurrent,
                "must be at least 1; a bulkhead of 0 would refuse every call",
            ));
        }
        if self.max_keys == 0 {
            return Err(ConfigError::new(
                "max_keys",
                self.max_keys,
                "must be at least 1",
            ));
        }
        crate::config_error::at_most_max_duration("max_wait", self.max_wait)?;
        Ok(())
    }
}
