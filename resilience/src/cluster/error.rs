//! [`ClusterError`]: why joining the cluster or reading it failed. Every URL in it is
//! shown without its password (`redis://:***@host`), in `Display` and `Debug` alike.

/// Why [`connect`](super::connect) or [`health`](super::health) failed.
///
/// ```
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let err = rt.block_on(resilience::cluster::connect("not a url")).unwrap_err();
/// assert!(err.to_string().contains("not a url"));
/// assert!(!resilience::cluster::is_connected());
///
/// // A password is never shown.
/// let err = rt.block_on(resilience::cluster::connect("redis://:hunter2@127.0.0.1:1")).unwrap_err();
/// assert!(err.to_string().contains("redis://:***@127.0.0.1:1"), "{err}");
/// assert!(!format!("{err} {err:?}").contains("hunter2"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The URL does not parse as a Redis URL, or asks for what is not built in (TLS
    /// without the feature `redis-tls`).
    #[error("invalid Redis URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL given, its password shown as `***`.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// Redis did not answer within the time allowed.
    #[error("Redis at `{url}` is unreachable: {reason}")]
    Unreachable {
        /// The URL (or the topology) given, its passwords shown as `***`.
        url: String,
        /// The client's error, or the timeout.
        reason: String,
    },
    /// `connect` was already called in this process.
    #[error("this process is already connected to the cluster as `{instance}`")]
    AlreadyConnected {
        /// The instance id of the first connection.
        instance: String,
    },
    /// No `connect` yet in this process.
    #[error("not connected: call `resilience::cluster::connect` first")]
    NotConnected,
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
    /// Redis answered with an error, or not in time.
    #[error("Redis operation failed: {0}")]
    Redis(String),
}
