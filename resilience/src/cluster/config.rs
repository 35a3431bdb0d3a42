//! [`ClusterConfig`]: how the cluster layer talks to Redis, and its rules.

use std::path::PathBuf;
use std::time::Duration;

use crate::ConfigError;

/// How the cluster layer talks to Redis. [`Default`] suits a local network.
///
/// ```
/// use resilience::cluster::ClusterConfig;
/// use std::time::Duration;
///
/// let config = ClusterConfig { op_timeout: Duration::from_millis(20), ..Default::default() };
/// assert!(config.validate().is_ok());
/// assert_eq!(ClusterConfig::default().op_timeout, Duration::from_millis(50));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfig {
    /// The longest any Redis operation may take, on a caller's path or not (1 ms ..=
    /// 1 s). Default 50 ms.
    pub op_timeout: Duration,
    /// How often this instance says it is alive (and retries while disconnected).
    /// Default 200 ms.
    pub heartbeat: Duration,
    /// How long after its last heartbeat an instance (and its votes) counts as gone.
    /// More than `heartbeat`. Default 1 s.
    pub instance_ttl: Duration,
    /// How long the half-open lease is held: the longest a trial may run before another
    /// instance may take one. Default 2 s.
    pub trial_lease: Duration,
    /// This instance's id; default a fresh UUID.
    pub instance: Option<String>,
    /// When Redis does not answer at `connect`: `false` (the default) makes that an
    /// `Err`; `true` returns `Ok` all the same (the call still waits no longer than
    /// when it fails), runs on local state meanwhile (one WARN), and joins in the
    /// background once Redis answers (one INFO), as after an outage.
    pub start_disconnected: bool,
    /// A PEM file of the certificate authorities to trust for `rediss://` (feature
    /// `redis-tls`), for a Redis whose certificate no system authority signed. Default
    /// `None`: the system's trusted authorities.
    pub ca_file: Option<PathBuf>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            op_timeout: Duration::from_millis(50),
            heartbeat: Duration::from_millis(200),
            instance_ttl: Duration::from_secs(1),
            trial_lease: Duration::from_secs(2),
            instance: None,
            start_disconnected: false,
            ca_file: None,
        }
    }
}

impl ClusterConfig {
    /// Checks every rule; the first broken one is an error naming the field and value.
    ///
    /// ```
    /// use resilience::cluster::ClusterConfig;
    /// let err = ClusterConfig { op_timeout: std::time::Duration::ZERO, ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "op_timeout");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ms = Duration::from_millis;
        if self.op_timeout < ms(1) || self.op_timeout > ms(1000) {
            return Err(ConfigError::new(
                "op_timeout",
                self.op_timeout,
                "must be between 1ms and 1s",
            ));
        }
        if self.heartbeat < ms(10) {
            return Err(ConfigError::new(
                "heartbeat",
                self.heartbeat,
                "must be at least 10ms",
            ));
        }
        if self.instance_ttl <= self.heartbeat {
            return Err(ConfigError::new(
                "instance_ttl",
                self.instance_ttl,
                format!("must be longer than `heartbeat` ({:?})", self.heartbeat),
            ));
        }
        if self.trial_lease < ms(1) {
            return Err(ConfigError::new(
                "trial_lease",
                self.trial_lease,
                "must be at least 1ms",
            ));
        }
        if let Some(id) = &self.instance {
            if id.is_empty() || id.contains(|c: char| c.is_whitespace() || c.is_control()) {
                return Err(ConfigError::new(
                    "instance",
                    id,
                    "must be a non-empty id without spaces or control characters",
                ));
            }
        }
        if let Some(path) = &self.ca_file {
            if !cfg!(feature = "redis-tls") {
                return Err(ConfigError::new(
                    "ca_file",
                    path,
                    "needs the feature `redis-tls` (TLS to Redis is not built in)",
                ));
            }
        }
        Ok(())
    }
}
