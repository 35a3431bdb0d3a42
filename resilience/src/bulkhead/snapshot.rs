//! [`BulkheadSnapshot`]: one bulkhead's counts and configuration, serializable.

use serde::{Deserialize, Serialize};

use super::BulkheadConfig;

/// A bulkhead's counts and configuration at one moment.
///
/// ```
/// let b = resilience::bulkhead::Bulkhead::new("docs.bulkhead.snapshot", Default::default()).unwrap();
/// let json = serde_json::to_value(b.snapshot()).unwrap();
/// assert_eq!(json["in_flight"], 0);
/// assert_eq!(json["key"], serde_json::Value::Null);
/// assert_eq!(json["config"]["max_concurrent"], 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BulkheadSnapshot {
    /// The bulkhead's name.
    pub name: String,
    /// Its key, for one instance of a bulkhead with `key = expr`.
    pub key: Option<String>,
    /// Calls running.
    pub in_flight: u32,
    /// Calls waiting for a place.
    pub waiting: u32,
    /// Calls refused since it was made.
    pub rejections: u64,
    /// The configuration in force.
    pub config: BulkheadConfig,
}
