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
//! - Heartbeats (every `heartbeat`, expiring after `instance_ttl`) carry a bounded
//!   summary of this instance's `registry().health()` (counts per pattern and state,
//!   the open or refusing instances first, a few kilobytes at most whatever the number
//!   of keys); [`health()`] gathers every live instance's, and [`instance_report`] reads
//!   one instance's whole report on demand.
//!
//! Where Redis is: one server ([`connect`]), or any [`Topology`] ([`connect_to`]): a
//! Redis Cluster (every script touches one hash slot) or a master behind Sentinel (a
//! failover is followed). URLs may carry a user and password (`redis://user:pw@host`)
//! and TLS (`rediss://`, feature `redis-tls`); a password is never shown: every error,
//! log line and `Debug` output writes `redis://user:***@host`.
//!
//! Faults: every Redis operation is bounded by [`ClusterConfig::op_timeout`] (50 ms by
//! default). The first failure marks the cluster disconnected (one WARN, and
//! `registry().health()` says `"connected": false`); from then on nothing waits on
//! Redis: breakers run on local state, a limiter admits on its local share
//! (`limit / expected_instances`), a retry budget grants from its local share
//! (`capacity / expected_instances`). The heartbeat task retries with backoff; once Redis
//! answers again it says so (INFO), re-publishes this instance's open breakers, and
//! applies the cluster's openings it missed. A partition (this instance cut from Redis,
//! or answers that stop while the connection stays open) is the same fault. A value in a
//! key that this crate did not write (a list, `nan`, `inf`, a huge number) is that
//! name's problem: the script repairs it (as if the key had expired) and says so once
//! (WARN); an error about one key never marks the instance disconnected.

mod breaker;
mod budget;
mod config;
mod error;
mod heartbeat;
mod limiter;
mod link;
mod scripts;
mod url;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use redis::{FromRedisValue, RedisError, ScriptInvocation};
use tokio::sync::{mpsc, Notify};

pub use config::ClusterConfig;
pub use error::ClusterError;
pub use heartbeat::instance_report;
pub use limiter::{Admission, ClusterLimit, ClusterLimiter, LimiterStats};
pub use link::Topology;
pub use scripts::GCRA_LUA;

#[cfg(feature = "admin")]
pub(crate) use breaker::{publish_manual, Manual};
#[cfg(feature = "config")]
pub(crate) use url::redact;

use crate::ClusterStatus;
use link::Link;

/// The pub/sub channel every breaker transition is published on.
const CHANNEL: &str = "resilience:cluster";

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
    /// Whether Redis answered at `connect`: `false` only with
    /// [`ClusterConfig::start_disconnected`], when the instance joins later.
    pub joined: bool,
}

/// One live instance's health, as its last heartbeat carried it: a bounded summary
/// (see [`instance_report`] for the whole report).
///
/// ```
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// for instance in resilience::cluster::health().await? {
///     println!("{} {}", instance.instance, instance.health["cluster"]["connected"]);
///     println!("open breakers: {}", instance.health["breakers"]["open"]);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct InstanceHealth {
    /// The instance's id.
    pub instance: String,
    /// The summary of its `registry().health()`, as JSON: `"cluster"` (its status),
    /// `"breakers"` (total and a count per state), `"bulkheads"` (total, full),
    /// `"rate_limiters"` (total, exhausted), `"retry_budgets"` (total, empty),
    /// `"hedges"` (total), and `"attention"`: the open, full or exhausted instances by
    /// pattern, name and key (at most 32; `"attention_total"` counts them all).
    pub health: serde_json::Value,
}

/// The process's one connection to the cluster.
pub(crate) struct Shared {
    config: ClusterConfig,
    instance: String,
    link: Link,
    connected: AtomicBool,
    live: AtomicU64,
    disconnections: AtomicU64,
    /// Signalled when Redis answers again after an outage (or a failover moved it).
    reconnected: Notify,
    events: mpsc::UnboundedSender<breaker::Event>,
    /// Keys already reported as holding a value this crate did not write.
    corrupt: Mutex<HashSet<String>>,
}

static CLUSTER: OnceLock<Arc<Shared>> = OnceLock::new();

/// The connection, once `connect` succeeded.
pub(crate) fn shared() -> Option<&'static Arc<Shared>> {
    CLUSTER.get()
}

/// Connects this process to the cluster at `url` with the default [`ClusterConfig`]:
/// starts the heartbeat, pub/sub and breaker tasks on the current tokio runtime. An
/// unreachable Redis is an `Err`; a second call is an `Err` too. `url` is
/// `redis://[user:password@]host:port[/db]` (AUTH, ACL users), or `rediss://…` (TLS,
/// feature `redis-tls`).
///
/// ```no_run
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// resilience::cluster::connect("redis://app:s3cret@127.0.0.1:6379").await?;
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
/// // Start even while Redis is down; join once it answers.
/// let config = ClusterConfig { instance: Some("api-1".into()), start_disconnected: true, ..Default::default() };
/// let me = connect_with("redis://127.0.0.1:6379", config).await?;
/// assert_eq!(me.instance, "api-1");
/// # Ok(()) }
/// ```
pub async fn connect_with(url: &str, config: ClusterConfig) -> Result<Connected, ClusterError> {
    connect_to(Topology::Single(url.to_owned()), config).await
}

/// Connects this process to the cluster's Redis wherever it is: one server, a Redis
/// Cluster or a master behind Sentinel (see [`Topology`]). As [`connect`] otherwise:
/// once per process, bounded (an unreachable Redis is an `Err` within about half a
/// second, or `Ok` with `joined: false` under [`ClusterConfig::start_disconnected`]).
///
/// ```no_run
/// use resilience::cluster::{connect_to, ClusterConfig, Topology};
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// let redis = Topology::Sentinel {
///     sentinels: vec!["redis://10.0.0.1:26379".into(), "redis://10.0.0.2:26379".into()],
///     master: "mymaster".into(),
/// };
/// let me = connect_to(redis, ClusterConfig::default()).await?;
/// assert!(me.joined);
/// # Ok(()) }
/// ```
pub async fn connect_to(
    topology: Topology,
    config: ClusterConfig,
) -> Result<Connected, ClusterError> {
    config.validate()?;
    if let Some(s) = CLUSTER.get() {
        return Err(ClusterError::AlreadyConnected {
            instance: s.instance.clone(),
        });
    }
    let link = Link::new(topology, &config)?;
    let first = config.op_timeout.max(Duration::from_millis(500));
    let joined = match tokio::time::timeout(first, link.establish()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(reason)) => Err(reason),
        Err(_) => Err(format!("no answer within {first:?}")),
    };
    if let Err(reason) = &joined {
        if !config.start_disconnected {
            return Err(ClusterError::Unreachable {
                url: link.shown(),
                reason: reason.clone(),
            });
        }
    }
    let instance = config
        .instance
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let (events, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        config,
        instance: instance.clone(),
        link,
        connected: AtomicBool::new(false),
        live: AtomicU64::new(0),
        disconnections: AtomicU64::new(0),
        reconnected: Notify::new(),
        events,
        corrupt: Mutex::new(HashSet::new()),
    });
    if CLUSTER.set(shared.clone()).is_err() {
        let first = CLUSTER
            .get()
            .map_or_else(String::new, |s| s.instance.clone());
        return Err(ClusterError::AlreadyConnected { instance: first });
    }
    // The breakers and `ClusterStatus` learn of the cluster here (until now their
    // transitions ran locally and the status was the default).
    crate::breaker::publish::install(breaker::breaker_transitioned);
    ClusterStatus::report_from(status);
    match &joined {
        Ok(()) => {
            shared.connected.store(true, Relaxed);
            shared.heartbeat_once().await;
            tracing::info!(target: "resilience::cluster", instance = %instance, redis = %shared.link.shown(), "connected to the cluster");
        }
        Err(reason) => tracing::warn!(
            target: "resilience::cluster",
            instance = %instance,
            redis = %shared.link.shown(),
            reason = %reason,
            "the cluster's Redis does not answer: starting on local state (breakers, rate limits and budgets), joining once it answers"
        ),
    }
    tokio::spawn(heartbeat::heartbeat_loop(shared.clone()));
    tokio::spawn(breaker::pubsub_loop(shared.clone()));
    tokio::spawn(breaker::breaker_loop(shared.clone(), rx));
    tokio::spawn(budget::budget_loop(shared.clone()));
    Ok(Connected {
        instance,
        joined: joined.is_ok(),
    })
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

/// Where this process's cluster Redis is, as it may be shown (passwords as `***`);
/// for Sentinel, with the master's address of the moment.
///
/// ```
/// // Before `connect`:
/// assert_eq!(resilience::cluster::redis(), None);
/// ```
pub fn redis() -> Option<String> {
    CLUSTER.get().map(|s| match s.link.master_addr() {
        Some(addr) => format!("{} (master at {addr})", s.link.shown()),
        None => s.link.shown(),
    })
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
    inv.key(heartbeat::INSTANCES).key(heartbeat::HEALTH);
    let raw: Vec<String> = shared
        .eval(heartbeat::INSTANCES, &inv)
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

/// An error about the data of one key (a value of the wrong type, a script that failed
/// on it, an answer that does not parse), not about the connection or the server.
fn about_the_data(e: &RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    match e.kind() {
        ErrorKind::UnexpectedReturnType => true,
        ErrorKind::Server(ServerErrorKind::ResponseError) => {
            e.code() == Some("WRONGTYPE") || e.detail().is_some_and(|d| d.contains("script"))
        }
        _ => false,
    }
}

impl Shared {
    /// Runs one Redis operation within `op_timeout`. A failure of the connection or
    /// the server marks the cluster disconnected (one WARN per outage); only the
    /// heartbeat marks it connected again. An error about `key`'s data does not: it is
    /// that key's problem, said once (WARN), and the caller decides locally.
    async fn run<T>(
        &self,
        key: &str,
        op: impl core::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.config.op_timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) if about_the_data(&e) => {
                let reason = self.link.scrub(&e.to_string());
                self.corrupt_once(key, &reason);
                Err(reason)
            }
            Ok(Err(e)) => {
                let reason = self.link.scrub(&e.to_string());
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

    /// One script on the connection of the moment (see [`Shared::run`]); `key` is the
    /// one it touches, named if its data is at fault.
    async fn eval<T: FromRedisValue>(
        &self,
        key: &str,
        inv: &ScriptInvocation<'_>,
    ) -> Result<T, String> {
        let Some(mut conn) = self.link.conn() else {
            return Err("no connection to Redis yet".into());
        };
        self.run(key, async move { inv.invoke_async(&mut conn).await })
            .await
    }

    /// [`Shared::eval`] only while connected; `None` at once otherwise, and on failure.
    async fn eval_if_up<T: FromRedisValue>(
        &self,
        key: &str,
        inv: &ScriptInvocation<'_>,
    ) -> Option<T> {
        if !self.connected.load(Relaxed) {
            return None;
        }
        self.eval(key, inv).await.ok()
    }

    /// One command while connected (see [`Shared::eval_if_up`]).
    async fn query_if_up<T: FromRedisValue>(&self, key: &str, cmd: &redis::Cmd) -> Option<T> {
        if !self.connected.load(Relaxed) {
            return None;
        }
        let mut conn = self.link.conn()?;
        self.run(key, async move { cmd.query_async(&mut conn).await })
            .await
            .ok()
    }

    fn mark_down(&self, reason: &str) {
        if self.connected.swap(false, Relaxed) {
            self.disconnections.fetch_add(1, Relaxed);
            tracing::warn!(
                target: "resilience::cluster",
                instance = %self.instance,
                redis = %self.link.shown(),
                reason,
                "lost the cluster's Redis: breakers, rate limits and budgets run on local state until it answers again"
            );
        }
    }

    /// Says once per key that it held a value this crate did not write (repaired by the
    /// script, or decided locally for that name).
    fn corrupt_once(&self, key: &str, what: &str) {
        let mut seen = self.corrupt.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: the names are the code's; past 1 000 keys, say nothing more.
        if seen.len() < 1000 && seen.insert(key.to_owned()) {
            tracing::warn!(
                target: "resilience::cluster",
                instance = %self.instance,
                key,
                what,
                "a Redis key held a value resilience did not write: repaired (or decided locally) for this name only; the instance stays connected"
            );
        }
    }
}
