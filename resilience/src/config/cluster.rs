//! `[cluster]` (feature `redis`): where the cluster's Redis is and how to talk to it.
//!
//! Connecting is async and [`load`](super::load) is not, so the table is validated and
//! kept, never connected by the loader: [`Config::cluster`](super::Config::cluster)
//! hands it back and [`ClusterSettings::connect`] connects with it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::table::Table;
use crate::cluster::{self, ClusterConfig, ClusterError, Connected};
use crate::ConfigError;

/// The `[cluster]` table: the Redis URL and the [`ClusterConfig`] fields, durations as
/// `"50ms"`. [`Default`] is `ClusterConfig`'s defaults without a URL (which the loader
/// refuses: a `[cluster]` table must name its Redis).
///
/// ```
/// use resilience::config::{ClusterSettings, Config};
/// use std::time::Duration;
///
/// let config = Config::parse("[cluster]\nurl = \"redis://127.0.0.1:6379\"\nop_timeout = \"20ms\"\n")?;
/// let cluster: &ClusterSettings = config.cluster().unwrap();
/// assert_eq!(cluster.url, "redis://127.0.0.1:6379");
/// assert_eq!(cluster.cluster_config().op_timeout, Duration::from_millis(20));
/// assert_eq!(cluster.cluster_config().heartbeat, Duration::from_millis(200)); // default
/// # Ok::<(), resilience::config::LoadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// The Redis (or Valkey) URL, as `redis://host:port/db`. Required.
    pub url: String,
    /// [`ClusterConfig::op_timeout`]. Default 50 ms.
    #[serde(with = "crate::duration_serde")]
    pub op_timeout: Duration,
    /// [`ClusterConfig::heartbeat`]. Default 200 ms.
    #[serde(with = "crate::duration_serde")]
    pub heartbeat: Duration,
    /// [`ClusterConfig::instance_ttl`]. Default 1 s.
    #[serde(with = "crate::duration_serde")]
    pub instance_ttl: Duration,
    /// [`ClusterConfig::trial_lease`]. Default 2 s.
    #[serde(with = "crate::duration_serde")]
    pub trial_lease: Duration,
    /// [`ClusterConfig::instance`]: this instance's id; default a fresh UUID.
    pub instance: Option<String>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        let c = ClusterConfig::default();
        ClusterSettings {
            url: String::new(),
            op_timeout: c.op_timeout,
            heartbeat: c.heartbeat,
            instance_ttl: c.instance_ttl,
            trial_lease: c.trial_lease,
            instance: c.instance,
        }
    }
}

impl ClusterSettings {
    /// The [`ClusterConfig`] part (everything but the URL).
    ///
    /// ```
    /// let s = resilience::config::ClusterSettings { instance: Some("api-1".into()), ..Default::default() };
    /// assert_eq!(s.cluster_config().instance.as_deref(), Some("api-1"));
    /// ```
    pub fn cluster_config(&self) -> ClusterConfig {
        ClusterConfig {
            op_timeout: self.op_timeout,
            heartbeat: self.heartbeat,
            instance_ttl: self.instance_ttl,
            trial_lease: self.trial_lease,
            instance: self.instance.clone(),
        }
    }

    /// Checks the URL (set, and a Redis URL; nothing is contacted) and then every
    /// [`ClusterConfig::validate`] rule; `Err` naming the field and its value.
    ///
    /// ```
    /// use resilience::config::ClusterSettings;
    /// let err = ClusterSettings::default().validate().unwrap_err();
    /// assert_eq!(err.field(), "url");
    /// let err = ClusterSettings { url: "http://x".into(), ..Default::default() }.validate().unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("url", "\"http://x\""));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.url.trim().is_empty() {
            return Err(ConfigError::new(
                "url",
                &self.url,
                "must be set, as in \"redis://127.0.0.1:6379\"",
            ));
        }
        if let Err(e) = redis::Client::open(self.url.as_str()) {
            return Err(ConfigError::new(
                "url",
                &self.url,
                format!("is not a Redis URL ({e})"),
            ));
        }
        self.cluster_config().validate()
    }

    /// [`cluster::connect_with`] this URL and configuration: what a program runs (in its
    /// tokio runtime) after [`load`](super::load) to join the cluster the file names.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = resilience::config::load("resilience.toml")?;
    /// if let Some(cluster) = config.cluster() {
    ///     let me = cluster.connect().await?;
    ///     println!("joined as {}", me.instance);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<Connected, ClusterError> {
        self.validate()?;
        cluster::connect_with(&self.url, self.cluster_config()).await
    }
}

/// `[cluster]`: [`ClusterSettings`], validated and kept; applying it changes nothing at
/// run time (see the module docs).
pub(crate) static CLUSTER: Table<ClusterSettings> = Table {
    name: "cluster",
    keyed: false,
    validate: |_, c, _| c.validate(),
    apply: |_, _| Ok(()),
    effective: |_| None,
    names: Vec::new,
};
