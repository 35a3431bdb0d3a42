//! [`BulkheadFull`]: what a refused call returns.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::{Category, MarcusError, Remediation};

/// A call refused by a full bulkhead; the body did not run.
///
/// A transient, retryable [`MarcusError`] with code `BULKHEAD_FULL_ERROR`: the places
/// free as running calls end. Building one copies a few words (the name is the
/// bulkhead's interned `&'static str`, the key a reference count).
///
/// ```
/// use resilience::{BulkheadFull, MarcusError};
/// use std::time::Duration;
///
/// let full = BulkheadFull { name: "db", key: None, max_concurrent: 4, waited: Duration::from_millis(100) };
/// assert_eq!(full.code(), "BULKHEAD_FULL_ERROR");
/// assert!(full.retryable());
/// assert_eq!(full.to_string(), "bulkhead `db` is full (4 calls running); waited 100ms");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BulkheadFull {
    /// The bulkhead that refused the call.
    pub name: &'static str,
    /// Its key, for a bulkhead with `key = expr`.
    #[serde(serialize_with = "crate::keyed::serialize_key")]
    pub key: Option<Arc<str>>,
    /// Its limit on calls at once.
    pub max_concurrent: u32,
    /// How long the call waited for a place before it was refused.
    #[serde(with = "crate::duration_serde")]
    pub waited: Duration,
}

impl core::fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "bulkhead `{}`", self.name)?;
        if let Some(key) = &self.key {
            write!(f, " (key `{key}`)")?;
        }
        write!(f, " is full ({} calls running)", self.max_concurrent)?;
        if !self.waited.is_zero() {
            write!(f, "; waited {}", humantime::format_duration(self.waited))?;
        }
        Ok(())
    }
}

impl std::error::Error for BulkheadFull {}

impl MarcusError for BulkheadFull {
    fn code(&self) -> &'static str {
        "BULKHEAD_FULL_ERROR"
    }

    fn category(&self) -> Category {
        Category::Transient
    }

    fn remediation(&self) -> Remediation {
        Remediation {
            immediate: Some("Retry shortly: a place frees when a running call ends".into()),
            long_term: Some(
                "Raise max_concurrent or max_wait (registry().configure_bulkhead), or make the dependency faster"
                    .into(),
            ),
            ..Remediation::for_category(Category::Transient)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_names_the_key_and_serializes() {
        let full = BulkheadFull {
            name: "db",
            key: Some("eu".into()),
            max_concurrent: 2,
            waited: Duration::ZERO,
        };
        assert_eq!(
            full.to_string(),
            "bulkhead `db` (key `eu`) is full (2 calls running)"
        );
        let json = serde_json::to_value(&full).unwrap();
        assert_eq!(json["key"], "eu");
        assert_eq!(json["waited"], "0s");
        assert_eq!(full.category(), Category::Transient);
    }
}
