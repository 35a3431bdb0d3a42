//! Cluster scope through Redis (or Valkey), feature `redis`: circuit breakers, rate
//! limits and (later) retry budgets shared by every instance connected to one Redis.
//!
//! ```no_run
//! # async fn run() -> Result<(), resilience::cluster::ClusterError> {
//! let me = resilience::cluster::connect("redis://127.0.0.1:6379").await?;
//! println!("instance {}", me.instance);
//! # Ok(()) }
//! ```
//!
//! What crosses the network, and what never does:
//! - A call through a closed breaker never touches Redis: the breaker's state machine
//!   calls this module only on a transition. An opening is a vote (a sorted set of live
//!   voters, `{cb:NAME}:votes`); once `quorum` distinct live instances voted, the
//!   cluster opening is a key with an expiry (`{cb:NAME}:open`) and a PUBLISH, which
//!   every instance applies to its own breaker. Half-open takes a lease (`SET NX PX`,
//!   `{cb:NAME}:trial`) ahead of the recovery deadline, so one instance runs the trial;
//!   the others hold their breaker open until the lease is gone. A trial's outcome is
//!   published (closing everywhere, or opening again everywhere), and so is a `reset()`
//!   by hand of an open breaker; `force_open` and `disable` stay local.
//! - A cluster rate limit ([`ClusterLimiter`]) is one GCRA script per admission
//!   (`EVALSHA`, key `{rl:NAME}`), except while the limit is known to be exhausted:
//!   then it refuses locally, without a round trip, until the wait Redis gave is over.
//! - A cluster retry budget (`[budget.NAME] scope = "cluster"`) never makes a retry
//!   wait: a retry takes a token from this instance's lease, or is refused. A background
//!   task tops the lease up (one script, `{rb:NAME}`) when it runs low or a retry was
//!   refused, and carries the deposits of successful calls, at least every 100 ms.
//! - Heartbeats (every `heartbeat`, expiring after `instance_ttl`) carry this
//!   instance's `registry().health()`; [`health()`] gathers every live instance's.
//!
//! Faults: every Redis operation is bounded by [`ClusterConfig::op_timeout`] (50 ms by
//! default). The first failure marks the cluster disconnected (one WARN, and
//! `registry().health()` says `"connected": false`); from then on nothing waits on
//! Redis: breakers run on local state, a limiter admits on its local share
//! (`limit / expected_instances`), a retry budget grants from its local share
//! (`capacity / expected_instances`). The heartbeat task retries with backoff; once Redis
//! answers again it says so (INFO), re-publishes this instance's open breakers, and
//! applies the cluster's openings it missed.

mod breaker;
mod budget;
mod limiter;
mod scripts;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{mpsc, Notify};

pub use limiter::{Admission, ClusterLimit, ClusterLimiter, LimiterStats};
pub use scripts::GCRA_LUA;

use crate::ClusterStatus;

/// The pub/sub channel every breaker transition is published on.
const CHANNEL: &str = "resilience:cluster";

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
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            op_timeout: Duration::from_millis(50),
            heartbeat: Duration::from_millis(200),
            instance_ttl: Duration::from_secs(1),
            trial_lease: Duration::from_secs(2),
            instance: None,
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
    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        use crate::ConfigError;
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
            if id.is_empty() || id.contains(char::is_whitespace) {
                return Err(ConfigError::new(
                    "instance",
                    id,
                    "must be a non-empty id without spaces",
                ));
            }
        }
        Ok(())
    }
}

/// Why [`connect`] or [`health`] failed.
///
/// ```
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let err = rt.block_on(resilience::cluster::connect("not a url")).unwrap_err();
/// assert!(err.to_string().contains("not a url"));
/// assert!(!resilience::cluster::is_connected());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The URL does not parse as a Redis URL.
    #[error("invalid Redis URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// Redis did not answer within the time allowed.
    #[error("Redis at `{url}` is unreachable: {reason}")]
    Unreachable {
        /// The URL given.
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

/// What [`connect`] returns: who this instance is in the cluster.
///
/// ```
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// let me = resilience::cluster::connect("redis://127.0.0.1:6379").await?;
/// assert_eq!(resilience::cluster::instance_id(), Some(me.instance.as_str()));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connected {
    /// This instance's id.
    pub instance: String,
}

/// One live instance's health, as its last heartbeat carried it.
///
/// ```
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// for instance in resilience::cluster::health().await? {
///     println!("{} {}", instance.instance, instance.health["cluster"]["connected"]);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct InstanceHealth {
    /// The instance's id.
    pub instance: String,
    /// Its `registry().health()`, as JSON.
    pub health: serde_json::Value,
}

/// The process's one connection to the cluster.
pub(crate) struct Shared {
    config: ClusterConfig,
    instance: String,
    conn: ConnectionManager,
    client: redis::Client,
    connected: AtomicBool,
    live: AtomicU64,
    disconnections: AtomicU64,
    /// Signalled when Redis answers again after an outage.
    reconnected: Notify,
    events: mpsc::UnboundedSender<breaker::Event>,
}

static CLUSTER: OnceLock<Arc<Shared>> = OnceLock::new();

/// The connection, once `connect` succeeded.
pub(crate) fn shared() -> Option<&'static Arc<Shared>> {
    CLUSTER.get()
}

/// Connects this process to the cluster at `url` with the default [`ClusterConfig`]:
/// starts the heartbeat, pub/sub and breaker tasks on the current tokio runtime. An
/// unreachable Redis is an `Err`; a second call is an `Err` too.
///
/// ```no_run
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// resilience::cluster::connect("redis://127.0.0.1:6379").await?;
/// assert!(resilience::registry().health().cluster.connected);
/// # Ok(()) }
/// ```
pub async fn connect(url: &str) -> Result<Connected, ClusterError> {
    connect_with(url, ClusterConfig::default()).await
}

/// [`connect`] with a configuration of your own.
///
/// ```no_run
/// use resilience::cluster::{connect_with, ClusterConfig};
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// let config = ClusterConfig { instance: Some("api-1".into()), ..Default::default() };
/// let me = connect_with("redis://127.0.0.1:6379", config).await?;
/// assert_eq!(me.instance, "api-1");
/// # Ok(()) }
/// ```
pub async fn connect_with(url: &str, config: ClusterConfig) -> Result<Connected, ClusterError> {
    config.validate()?;
    if let Some(s) = CLUSTER.get() {
        return Err(ClusterError::AlreadyConnected {
            instance: s.instance.clone(),
        });
    }
    let client = redis::Client::open(url).map_err(|e| ClusterError::InvalidUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let unreachable = |reason: String| ClusterError::Unreachable {
        url: url.to_owned(),
        reason,
    };
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.op_timeout.max(Duration::from_millis(200))))
        .set_response_timeout(Some(config.op_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    let first = config.op_timeout.max(Duration::from_millis(500));
    let mut conn = tokio::time::timeout(
        first,
        client.get_connection_manager_with_config(manager_config),
    )
    .await
    .map_err(|_| unreachable(format!("no connection within {first:?}")))?
    .map_err(|e| unreachable(e.to_string()))?;
    let _: String = tokio::time::timeout(first, redis::cmd("PING").query_async(&mut conn))
        .await
        .map_err(|_| unreachable(format!("no PING answer within {first:?}")))?
        .map_err(|e| unreachable(e.to_string()))?;
    let instance = config
        .instance
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let (events, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        config,
        instance: instance.clone(),
        conn,
        client,
        connected: AtomicBool::new(true),
        live: AtomicU64::new(0),
        disconnections: AtomicU64::new(0),
        reconnected: Notify::new(),
        events,
    });
    // The breakers and `ClusterStatus` learn of the cluster here (until now their
    // transitions ran locally and the status was the default).
    crate::breaker::publish::install(breaker::breaker_transitioned);
    ClusterStatus::report_from(status);
    if CLUSTER.set(shared.clone()).is_err() {
        let first = CLUSTER
            .get()
            .map_or_else(String::new, |s| s.instance.clone());
        return Err(ClusterError::AlreadyConnected { instance: first });
    }
    shared.heartbeat_once().await;
    tokio::spawn(heartbeat_loop(shared.clone()));
    tokio::spawn(breaker::pubsub_loop(shared.clone()));
    tokio::spawn(breaker::breaker_loop(shared.clone(), rx));
    tokio::spawn(budget::budget_loop(shared.clone()));
    tracing::info!(target: "resilience::cluster", instance = %instance, "connected to the cluster");
    Ok(Connected { instance })
}

/// This process's instance id, once connected.
///
/// ```
/// // Before `connect`:
/// assert_eq!(resilience::cluster::instance_id(), None);
/// ```
pub fn instance_id() -> Option<&'static str> {
    CLUSTER.get().map(|s| s.instance.as_str())
}

/// Whether this process is connected now (false before `connect`).
///
/// ```
/// assert!(!resilience::cluster::is_connected());
/// ```
pub fn is_connected() -> bool {
    CLUSTER.get().is_some_and(|s| s.connected.load(Relaxed))
}

/// Every live instance's health, as their last heartbeats carried it (this instance's
/// included), by instance id.
///
/// ```no_run
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// let all = resilience::cluster::health().await?;
/// assert!(all.iter().any(|i| Some(i.instance.as_str()) == resilience::cluster::instance_id()));
/// # Ok(()) }
/// ```
pub async fn health() -> Result<Vec<InstanceHealth>, ClusterError> {
    let shared = CLUSTER.get().ok_or(ClusterError::NotConnected)?;
    let mut inv = scripts::LIVE.prepare_invoke();
    inv.key(INSTANCES).key(HEALTH);
    let raw: Vec<String> = shared
        .run(async { inv.invoke_async(&mut shared.conn.clone()).await })
        .await
        .map_err(ClusterError::Redis)?;
    let mut out: Vec<InstanceHealth> = raw
        .chunks_exact(2)
        .map(|pair| InstanceHealth {
            instance: pair[0].clone(),
            health: serde_json::from_str(&pair[1]).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    out.sort_by(|a, b| a.instance.cmp(&b.instance));
    Ok(out)
}

/// The `"cluster"` part of `registry().health()`.
pub(crate) fn status() -> ClusterStatus {
    match CLUSTER.get() {
        None => ClusterStatus::default(),
        Some(s) => {
            let connected = s.connected.load(Relaxed);
            ClusterStatus {
                connected,
                instance: Some(s.instance.clone()),
                live_instances: if connected { s.live.load(Relaxed) } else { 0 },
                disconnections: s.disconnections.load(Relaxed),
            }
        }
    }
}

const INSTANCES: &str = "{rs}:instances";
const HEALTH: &str = "{rs}:health";

impl Shared {
    /// Runs one Redis operation within `op_timeout`. A failure marks the cluster
    /// disconnected (one WARN per outage); only the heartbeat marks it connected again.
    async fn run<T>(
        &self,
        op: impl core::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.config.op_timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let reason = e.to_string();
                self.mark_down(&reason);
                Err(reason)
            }
            Err(_) => {
                let reason = format!("no answer within {:?}", self.config.op_timeout);
                self.mark_down(&reason);
                Err(reason)
            }
        }
    }

    /// Runs the operation only while connected; `None` at once otherwise.
    async fn run_if_up<T>(
        &self,
        op: impl core::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        if !self.connected.load(Relaxed) {
            return None;
        }
        self.run(op).await.ok()
    }

    fn mark_down(&self, reason: &str) {
        if self.connected.swap(false, Relaxed) {
            self.disconnections.fetch_add(1, Relaxed);
            tracing::warn!(
                target: "resilience::cluster",
                instance = %self.instance,
                reason,
                "lost the cluster's Redis: breakers, rate limits and budgets run on local state until it answers again"
            );
        }
    }

    /// One heartbeat; true when Redis answered.
    async fn heartbeat_once(&self) -> bool {
        let health = serde_json::to_string(&crate::registry().health()).unwrap_or_default();
        let ttl = self.config.instance_ttl.as_millis() as u64;
        let mut inv = scripts::HEARTBEAT.prepare_invoke();
        inv.key(INSTANCES)
            .key(HEALTH)
            .arg(&self.instance)
            .arg(ttl)
            .arg(health);
        match self
            .run(async { inv.invoke_async::<u64>(&mut self.conn.clone()).await })
            .await
        {
            Ok(live) => {
                self.live.store(live, Relaxed);
                if !self.connected.swap(true, Relaxed) {
                    tracing::info!(target: "resilience::cluster", instance = %self.instance, "the cluster's Redis answers again; reconciling");
                    self.reconnected.notify_waiters();
                }
                true
            }
            Err(_) => false,
        }
    }
}

/// Heartbeats every `heartbeat` while connected; while not, retries with backoff (from
/// `heartbeat / 4` doubling to `heartbeat`).
async fn heartbeat_loop(shared: Arc<Shared>) {
    let every = shared.config.heartbeat;
    let mut backoff = every / 4;
    loop {
        let up = shared.heartbeat_once().await;
        let wait = if up {
            backoff = every / 4;
            every
        } else {
            let wait = backoff;
            backoff = (backoff * 2).min(every);
            wait
        };
        tokio::time::sleep(wait).await;
    }
}
