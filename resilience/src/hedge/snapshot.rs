//! [`HedgeSnapshot`]: one hedge's configuration and counts, serializable.

use serde::{Deserialize, Serialize};

use super::HedgeConfig;

/// A hedge's configuration and counts at one moment.
///
/// ```
/// use resilience::{registry::Registry, HedgeConfig};
///
/// let reg = Registry::new();
/// reg.register_hedge("search", HedgeConfig::default())?;
/// let s = &reg.hedges()[0];
/// assert_eq!((s.name.as_str(), s.hedges_started), ("search", 0));
/// let json = serde_json::to_value(s).unwrap();
/// assert_eq!(json["config"]["max_hedges"], 1);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HedgeSnapshot {
    /// The hedge's name.
    pub name: String,
    /// Calls that started at least one extra run.
    pub hedged_calls: u64,
    /// Extra runs started, in all.
    pub hedges_started: u64,
    /// Calls answered first by an extra run rather than the first one.
    pub hedge_wins: u64,
    /// The configuration in force.
    pub config: HedgeConfig,
}
