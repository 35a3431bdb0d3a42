//! `[cluster]` (feature `redis`): where the cluster's Redis is and how to talk to it.
//! A URL's password is never shown: the table's `Debug`, and every error about it,
//! write `redis://user:***@host`.
//!
//! Connecting is async and [`load`](super::load) is not, so the table is validated and
//! kept, never connected by the loader: [`Config::cluster`](super::Config::cluster)
//! hands it back and [`ClusterSettings::connect`] connects with it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::table::Table;
use crate::cluster::{self, ClusterConfig, ClusterError, Connected, Topology};
use crate::ConfigError;

/// The `[cluster]` table: where Redis is (`url` for one server, `nodes` for a Redis
/// Cluster, `sentinels` and `master` for Sentinel: exactly one of the three) and the
/// [`ClusterConfig`] fields, durations as `"50ms"`. [`Default`] is `ClusterConfig`'s
/// defaults without a Redis (which the loader refuses: a `[cluster]` table must name
/// its Redis).
///
/// ```
/// use resilience::config::Config;
///
/// let config = Config::parse(
///     "[cluster]\nsentinels = [\"redis://10.0.0.1:26379\"]\nmaster = \"redis://:s3cret@mymaster\"\n",
/// )?;
/// let cluster = config.cluster().unwrap();
/// assert!(matches!(cluster.topology(), resilience::cluster::Topology::Sentinel { .. }));
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), resilience::config::LoadError>(())
/// ```
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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// One Redis (or Valkey) server's URL, as `redis://[user:password@]host:port/db` or
    /// `rediss://…` (TLS, feature `redis-tls`).
    pub url: String,
    /// A Redis Cluster's node URLs ([`Topology::Cluster`]).
    pub nodes: Vec<String>,
    /// The sentinels' URLs ([`Topology::Sentinel`]), with `master`.
    pub sentinels: Vec<String>,
    /// The master's name as the sentinels know it (or a URL with the name as host, for
    /// its credentials), with `sentinels`.
    pub master: String,
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
    /// [`ClusterConfig::start_disconnected`]: start while Redis is down, join later.
    pub start_disconnected: bool,
    /// [`ClusterConfig::ca_file`]: the authorities to trust for `rediss://`.
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for ClusterSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |urls: &[String]| urls.iter().map(|u| cluster::redact(u)).collect::<Vec<_>>();
        f.debug_struct("ClusterSettings")
            .field("url", &cluster::redact(&self.url))
            .field("nodes", &shown(&self.nodes))
            .field("sentinels", &shown(&self.sentinels))
            .field("master", &cluster::redact(&self.master))
            .field("op_timeout", &self.op_timeout)
            .field("heartbeat", &self.heartbeat)
            .field("instance_ttl", &self.instance_ttl)
            .field("trial_lease", &self.trial_lease)
            .field("instance", &self.instance)
            .field("start_disconnected", &self.start_disconnected)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// A config file's text with every URL's password replaced by `***` (for the values
/// kept beside a table and quoted in errors).
pub(super) fn shown(text: &str) -> String {
    cluster::redact(text)
}

impl Default for ClusterSettings {
    fn default() -> Self {
        let c = ClusterConfig::default();
        ClusterSettings {
            url: String::new(),
            nodes: Vec::new(),
            sentinels: Vec::new(),
            master: String::new(),
            op_timeout: c.op_timeout,
            heartbeat: c.heartbeat,
            instance_ttl: c.instance_ttl,
            trial_lease: c.trial_lease,
            instance: c.instance,
            start_disconnected: c.start_disconnected,
            ca_file: c.ca_file,
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
            start_disconnected: self.start_disconnected,
            ca_file: self.ca_file.clone(),
        }
    }

    /// Where Redis is: `nodes` (a Redis Cluster), `sentinels` and `master`, or `url`.
    ///
    /// ```
    /// use resilience::{cluster::Topology, config::ClusterSettings};
    /// let s = ClusterSettings { nodes: vec!["redis://127.0.0.1:7000".into()], ..Default::default() };
    /// assert_eq!(s.topology(), Topology::Cluster(vec!["redis://127.0.0.1:7000".into()]));
    /// ```
    pub fn topology(&self) -> Topology {
        if !self.nodes.is_empty() {
            Topology::Cluster(self.nodes.clone())
        } else if !self.sentinels.is_empty() {
            Topology::Sentinel {
                sentinels: self.sentinels.clone(),
                master: self.master.clone(),
            }
        } else {
            Topology::Single(self.url.clone())
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
        let given = [
            !self.url.trim().is_empty(),
            !self.nodes.is_empty(),
            !self.sentinels.is_empty() || !self.master.is_empty(),
        ];
        match given.iter().filter(|g| **g).count() {
            0 => {
                return Err(ConfigError::new(
                    "url",
                    &self.url,
                    "must be set, as in \"redis://127.0.0.1:6379\" (or `nodes` for a Redis Cluster, `sentinels` and `master` for Sentinel)",
                ))
            }
            1 => {}
            _ => {
                return Err(ConfigError::new(
                    "url",
                    cluster::redact(&self.url),
                    "give one of `url`, `nodes`, or `sentinels` with `master`",
                ))
            }
        }
        if given[2] && (self.sentinels.is_empty() || self.master.trim().is_empty()) {
            let field = if self.sentinels.is_empty() {
                "sentinels"
            } else {
                "master"
            };
            return Err(ConfigError::new(
                field,
                cluster::redact(&self.master),
                "Sentinel needs both `sentinels` and `master`",
            ));
        }
        let (field, urls): (&'static str, Vec<&String>) = match (given[1], given[2]) {
            (true, _) => ("nodes", self.nodes.iter().collect()),
            (_, true) => ("sentinels", self.sentinels.iter().collect()),
            _ => ("url", vec![&self.url]),
        };
        for url in urls {
            if let Err(e) = redis::Client::open(url.as_str()) {
                let reason = cluster::redact(&e.to_string());
                return Err(ConfigError::new(
                    field,
                    cluster::redact(url),
                    format!("is not a Redis URL ({reason})"),
                ));
            }
        }
        self.cluster_config().validate()
    }

    /// [`cluster::connect_to`] this topology and configuration: what a program runs (in
    /// its tokio runtime) after [`load`](super::load) to join the cluster the file names.
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
        cluster::connect_to(self.topology(), self.cluster_config()).await
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
    layers: None,
    every_name_known: false,
};
