//! [`Scope`]: whether a pattern's state is this process's own or shared by every
//! instance connected to one Redis (feature `redis`, see `resilience::cluster`), and
//! the [`ClusterStatus`] that `registry().health()` reports.
//!
//! This module builds without the feature: `scope = cluster` then runs locally and says
//! so once (a `tracing` WARN), as it does before `cluster::connect`.

use serde::{Deserialize, Serialize};

/// Where a pattern keeps its state: this process (the default) or the cluster.
///
/// ```
/// use resilience::{BreakerConfig, Scope};
///
/// let config = BreakerConfig { scope: Scope::Cluster, quorum: 2, ..Default::default() };
/// assert!(config.validate().is_ok());
/// assert_eq!(serde_json::to_value(Scope::Cluster).unwrap(), "cluster");
/// assert_eq!(Scope::default(), Scope::Local);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// State of this process only.
    #[default]
    Local,
    /// State shared through Redis by every connected instance (feature `redis`); local
    /// while not connected.
    Cluster,
}

impl Scope {
    /// The scope's name as written in the attribute and the config file.
    ///
    /// ```
    /// assert_eq!(resilience::Scope::Cluster.as_str(), "cluster");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Local => "local",
            Scope::Cluster => "cluster",
        }
    }
}

impl core::fmt::Display for Scope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `"cluster"` part of [`registry().health()`](crate::registry::Registry::health):
/// whether this process is connected to the cluster's Redis, and as whom.
///
/// ```
/// let status = resilience::ClusterStatus::current();
/// assert!(!status.connected); // no `cluster::connect` in this process
/// let json = serde_json::to_value(&status).unwrap();
/// assert_eq!(json["connected"], false);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClusterStatus {
    /// True while the last Redis operation succeeded; false before `connect`, without
    /// the `redis` feature, and while Redis is unreachable or slow.
    pub connected: bool,
    /// This process's instance id, once `connect` has been called.
    pub instance: Option<String>,
    /// Live instances (this one included) at the last heartbeat; 0 when not connected.
    pub live_instances: u64,
    /// Times the connection was lost since `connect`.
    pub disconnections: u64,
}

impl ClusterStatus {
    /// This process's status now.
    ///
    /// ```
    /// assert_eq!(resilience::ClusterStatus::current().live_instances, 0);
    /// ```
    pub fn current() -> ClusterStatus {
        STATUS
            .get()
            .map_or_else(ClusterStatus::default, |status| status())
    }

    /// Where [`current`](ClusterStatus::current) reads from: the cluster (feature
    /// `redis`) installs its status when it connects, so this vocabulary module never
    /// names it. The first installation stays.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn report_from(status: fn() -> ClusterStatus) {
        let _ = STATUS.set(status);
    }
}

static STATUS: std::sync::OnceLock<fn() -> ClusterStatus> = std::sync::OnceLock::new();
