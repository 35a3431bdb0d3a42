//! Serializable views of the feature switches.

use serde::{Deserialize, Serialize};

use super::DisabledBy;

/// One feature's switch and counts at one moment.
///
/// ```
/// let d = resilience::degradation::Degradation::new();
/// d.register("search", 0_u32).report_failure();
/// let s = &d.snapshot().features[0];
/// assert_eq!((s.name.as_str(), s.enabled, s.failures), ("search", true, 1));
/// assert_eq!(s.fallback_type.as_deref(), Some("u32"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeatureSnapshot {
    /// The feature's name.
    pub name: String,
    /// Whether it is on.
    pub enabled: bool,
    /// Why it is off (`null` when on).
    pub disabled_by: Option<DisabledBy>,
    /// Consecutive failures counted since the last success or `enable`.
    pub failures: u32,
    /// Consecutive failures that switch it off.
    pub failure_threshold: u32,
    /// The Rust type of its fallback value, `null` if it has none.
    pub fallback_type: Option<String>,
}

/// Every feature's snapshot, and how many are off.
///
/// ```
/// let d = resilience::degradation::Degradation::new();
/// d.disable("a");
/// d.register("b", ());
/// let s = d.snapshot();
/// assert_eq!((s.total, s.disabled), (2, 1));
/// assert_eq!(s.feature("a").map(|f| f.enabled), Some(false));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DegradationSnapshot {
    /// Features known (registered, configured, switched or reported).
    pub total: usize,
    /// Of those, switched off.
    pub disabled: usize,
    /// Every feature, by name.
    pub features: Vec<FeatureSnapshot>,
}

impl DegradationSnapshot {
    pub(crate) fn new(features: Vec<FeatureSnapshot>) -> DegradationSnapshot {
        DegradationSnapshot {
            total: features.len(),
            disabled: features.iter().filter(|f| !f.enabled).count(),
            features,
        }
    }

    /// The snapshot of the feature `name`, if known.
    ///
    /// ```
    /// assert!(resilience::degradation::Degradation::new().snapshot().feature("x").is_none());
    /// ```
    pub fn feature(&self, name: &str) -> Option<&FeatureSnapshot> {
        self.features.iter().find(|f| f.name == name)
    }
}
