//! Where the cluster's Redis is ([`Topology`]) and this process's one connection to it
//! ([`Link`]): one server, a Redis Cluster, or a master found through Sentinel. The
//! connection can be missing (Redis down at start with `start_disconnected`) and can be
//! replaced (a Sentinel failover moved the master); everything else in `cluster/` asks
//! the link for the connection of the moment.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection, PubSub,
};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, Pipeline, RedisFuture, Value};

use super::config::ClusterConfig;
use super::error::ClusterError;
use super::url::{redact, scrub};

/// Where the cluster's Redis is. Every URL is `redis://[user:password@]host:port[/db]`
/// or `rediss://…` (TLS, feature `redis-tls`); `Debug` shows them without passwords.
///
/// ```
/// use resilience::cluster::Topology;
///
/// let one = Topology::Single("redis://127.0.0.1:6379".into());
/// let cluster = Topology::Cluster(vec!["redis://10.0.0.1:7000".into(), "redis://10.0.0.2:7000".into()]);
/// let sentinel = Topology::Sentinel {
///     sentinels: vec!["redis://10.0.0.1:26379".into()],
///     // The master's name; its credentials, TLS and database as a URL's, if it has any.
///     master: "redis://:s3cret@mymaster/0".into(),
/// };
/// assert!(!format!("{sentinel:?}").contains("s3cret"));
/// # let _ = (one, cluster);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Topology {
    /// One server (or a proxy in front of several).
    Single(String),
    /// A Redis Cluster, through redis-rs's cluster client: one or more of its nodes (the
    /// rest are discovered). Every script of this crate touches keys of one hash slot
    /// (`{rl:NAME}`, `{cb:NAME}:…`, `{rb:NAME}`, `{rs}:…`). Pub/sub is subscribed on one
    /// node (Redis Cluster carries a PUBLISH to every node), moving to the next on failure.
    Cluster(Vec<String>),
    /// A master and its replicas behind Sentinel: the sentinels' URLs (their own
    /// credentials, if any), and the master's name as the sentinels know it, either bare
    /// (`mymaster`) or as a URL whose host is the name (`redis://user:pw@mymaster/0`,
    /// `rediss://…`) to give the master's credentials, TLS and database. A failover is
    /// followed: the heartbeat asks the sentinels where the master is and moves the
    /// connection, the scripts and the pub/sub there.
    Sentinel {
        /// The sentinels' URLs.
        sentinels: Vec<String>,
        /// The master's name (or a URL with the name as host).
        master: String,
    },
}

impl Topology {
    /// The topology as it may be shown: passwords replaced by `***`.
    pub(super) fn shown(&self) -> String {
        match self {
            Topology::Single(url) => redact(url),
            Topology::Cluster(nodes) => format!("Redis Cluster [{}]", redact(&nodes.join(", "))),
            Topology::Sentinel { sentinels, master } => format!(
                "Sentinel master `{}` via [{}]",
                redact(master),
                redact(&sentinels.join(", "))
            ),
        }
    }

    /// Every URL it names, for scrubbing secrets from a client's error text.
    fn urls(&self) -> Vec<&str> {
        match self {
            Topology::Single(url) => vec![url],
            Topology::Cluster(nodes) => nodes.iter().map(String::as_str).collect(),
            Topology::Sentinel { sentinels, master } => sentinels
                .iter()
                .map(String::as_str)
                .chain([master.as_str()])
                .collect(),
        }
    }
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topology::Single(url) => f.debug_tuple("Single").field(&redact(url)).finish(),
            Topology::Cluster(nodes) => f
                .debug_tuple("Cluster")
                .field(&nodes.iter().map(|n| redact(n)).collect::<Vec<_>>())
                .finish(),
            Topology::Sentinel { sentinels, master } => f
                .debug_struct("Sentinel")
                .field(
                    "sentinels",
                    &sentinels.iter().map(|n| redact(n)).collect::<Vec<_>>(),
                )
                .field("master", &redact(master))
                .finish(),
        }
    }
}

/// The connection of the moment: cheap to clone (both kinds share one multiplexed
/// connection per server), and reconnecting by itself to the same server(s).
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    /// A connection of its own, for one large transfer (a whole report).
    Plain(MultiplexedConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
            Conn::Plain(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Plain(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
            Conn::Plain(c) => c.get_db(),
        }
    }
}

/// How long a large transfer (a whole report) may take.
pub(super) const BULK_TIMEOUT: Duration = Duration::from_secs(5);

/// How a topology's connections are made.
enum Maker {
    Single(Client),
    /// Boxed: two cluster clients are large beside the other kinds.
    Cluster(Box<ClusterMaker>),
    Sentinel {
        sentinels: Vec<Client>,
        name: String,
        /// The master's URL around its address: `scheme://userinfo@` and `/db`.
        prefix: String,
        suffix: String,
    },
}

struct ClusterMaker {
    client: ClusterClient,
    /// The same with a long response timeout, for a whole report.
    bulk: ClusterClient,
    /// One client per node given, to subscribe with.
    nodes: Vec<Client>,
}

/// The process's connection to the cluster's Redis, whatever the topology.
pub(super) struct Link {
    topology: Topology,
    maker: Maker,
    ca: Option<Vec<u8>>,
    op_timeout: Duration,
    conn: RwLock<Option<Conn>>,
    /// Sentinel: the master's `host:port` and a client for it, as last found.
    master: Mutex<Option<(String, Client)>>,
    /// Sentinel: the sentinel that answered last (asked first next time); Cluster: the
    /// node to subscribe on next.
    next: AtomicUsize,
    /// Sentinel: the connection to the sentinel that answered last, kept for the
    /// heartbeat's question.
    asked: tokio::sync::Mutex<Option<(usize, MultiplexedConnection)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Link {
    /// Checks every URL (nothing is contacted) and reads the CA file.
    pub(super) fn new(topology: Topology, config: &ClusterConfig) -> Result<Link, ClusterError> {
        let ca = match &config.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                crate::ConfigError::new("ca_file", path, format!("cannot be read ({e})"))
            })?),
            None => None,
        };
        let open = |url: &str| open_client(url, ca.as_deref());
        let maker = match &topology {
            Topology::Single(url) => Maker::Single(open(url)?),
            Topology::Cluster(nodes) => {
                if nodes.is_empty() {
                    return Err(crate::ConfigError::new(
                        "nodes",
                        "[]",
                        "a Redis Cluster needs at least one node's URL",
                    )
                    .into());
                }
                let clients = nodes
                    .iter()
                    .map(|n| open(n))
                    .collect::<Result<Vec<_>, _>>()?;
                let builder = |response_timeout: Duration| {
                    let builder = ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                        .connection_timeout(config.op_timeout.max(Duration::from_millis(200)))
                        .response_timeout(response_timeout)
                        .retries(2);
                    match &ca {
                        Some(pem) => with_ca(builder, pem),
                        None => builder,
                    }
                };
                let invalid = |e: redis::RedisError| ClusterError::InvalidUrl {
                    url: topology.shown(),
                    reason: scrub_all(&e.to_string(), &topology),
                };
                let client = builder(config.op_timeout).build().map_err(invalid)?;
                let bulk = builder(BULK_TIMEOUT).build().map_err(invalid)?;
                Maker::Cluster(Box::new(ClusterMaker {
                    client,
                    bulk,
                    nodes: clients,
                }))
            }
            Topology::Sentinel { sentinels, master } => {
                if sentinels.is_empty() {
                    return Err(crate::ConfigError::new(
                        "sentinels",
                        "[]",
                        "Sentinel needs at least one sentinel's URL",
                    )
                    .into());
                }
                let clients = sentinels
                    .iter()
                    .map(|s| open(s))
                    .collect::<Result<Vec<_>, _>>()?;
                let (name, prefix, suffix) = master_parts(master);
                if name.is_empty() {
                    return Err(crate::ConfigError::new(
                        "master",
                        redact(master),
                        "must name the master as the sentinels know it",
                    )
                    .into());
                }
                // The master's URL must parse once it has an address.
                open(&format!("{prefix}127.0.0.1:6379{suffix}"))?;
                Maker::Sentinel {
                    sentinels: clients,
                    name,
                    prefix,
                    suffix,
                }
            }
        };
        Ok(Link {
            topology,
            maker,
            ca,
            op_timeout: config.op_timeout,
            conn: RwLock::new(None),
            master: Mutex::new(None),
            next: AtomicUsize::new(0),
            asked: tokio::sync::Mutex::new(None),
        })
    }

    /// The topology as it may be shown (no password).
    pub(super) fn shown(&self) -> String {
        self.topology.shown()
    }

    /// A client's error text about this topology, without its secrets.
    pub(super) fn scrub(&self, reason: &str) -> String {
        scrub_all(reason, &self.topology)
    }

    /// The connection of the moment; `None` before the first one was made.
    pub(super) fn conn(&self) -> Option<Conn> {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn has_conn(&self) -> bool {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Makes a connection (for Sentinel, to the master the sentinels name now), checks it
    /// answers PING, and makes it the connection of the moment. The caller bounds it.
    pub(super) async fn establish(&self) -> Result<(), String> {
        let manager_config = || {
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(self.op_timeout.max(Duration::from_millis(200))))
                .set_response_timeout(Some(self.op_timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(500))
        };
        let mut conn = match &self.maker {
            Maker::Single(client) => Conn::Single(
                client
                    .get_connection_manager_with_config(manager_config())
                    .await
                    .map_err(|e| self.scrub(&e.to_string()))?,
            ),
            Maker::Cluster(cluster) => Conn::Cluster(
                cluster
                    .client
                    .get_async_connection()
                    .await
                    .map_err(|e| self.scrub(&e.to_string()))?,
            ),
            Maker::Sentinel { .. } => {
                let (addr, client) = self.find_master().await?;
                let conn = client
                    .get_connection_manager_with_config(manager_config())
                    .await
                    .map_err(|e| self.scrub(&e.to_string()))?;
                *lock(&self.master) = Some((addr, client));
                Conn::Single(conn)
            }
        };
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.scrub(&e.to_string()))?;
        *self.conn.write().unwrap_or_else(PoisonError::into_inner) = Some(conn);
        Ok(())
    }

    /// Sentinel only: true when the sentinels name a master other than the one this
    /// link is connected to (a failover happened). Silent sentinels say nothing.
    pub(super) async fn master_moved(&self) -> bool {
        if !matches!(self.maker, Maker::Sentinel { .. }) {
            return false;
        }
        let Ok(Ok((addr, _))) = tokio::time::timeout(self.op_timeout * 4, self.find_master()).await
        else {
            return false;
        };
        lock(&self.master)
            .as_ref()
            .is_some_and(|(current, _)| *current != addr)
    }

    /// Sentinel only: asks the sentinels (the last one that answered first) for the
    /// master's address; checks it calls itself a master (a promotion in progress may
    /// name one that does not yet).
    async fn find_master(&self) -> Result<(String, Client), String> {
        let Maker::Sentinel {
            sentinels,
            name,
            prefix,
            suffix,
        } = &self.maker
        else {
            return Err("not a Sentinel topology".into());
        };
        let first = self.next.load(Relaxed);
        let mut last_error = String::from("no sentinel answered");
        let mut kept = self.asked.lock().await;
        for i in 0..sentinels.len() {
            let at = (first + i) % sentinels.len();
            let cached = kept.take().filter(|(i, _)| *i == at).map(|(_, c)| c);
            let asked =
                tokio::time::timeout(self.op_timeout.max(Duration::from_millis(100)), async {
                    let mut conn = match cached {
                        Some(conn) => conn,
                        None => sentinels[at].get_multiplexed_async_connection().await?,
                    };
                    let answer = redis::cmd("SENTINEL")
                        .arg("get-master-addr-by-name")
                        .arg(name)
                        .query_async::<Option<(String, String)>>(&mut conn)
                        .await?;
                    redis::RedisResult::Ok((answer, conn))
                })
                .await;
            let asked = match asked {
                Ok(Ok((answer, conn))) => {
                    *kept = Some((at, conn));
                    Ok(Ok(answer))
                }
                Ok(Err(e)) => Ok(Err(e)),
                Err(e) => Err(e),
            };
            match asked {
                Ok(Ok(Some((host, port)))) => {
                    self.next.store(at, Relaxed);
                    let addr = format!("{host}:{port}");
                    let client =
                        open_client(&format!("{prefix}{addr}{suffix}"), self.ca.as_deref())
                            .map_err(|e| e.to_string())?;
                    return Ok((addr, client));
                }
                Ok(Ok(None)) => last_error = format!("the sentinels know no master named `{name}`"),
                Ok(Err(e)) => last_error = self.scrub(&e.to_string()),
                Err(_) => last_error = "a sentinel did not answer in time".into(),
            }
        }
        Err(last_error)
    }

    /// A pub/sub connection, subscribed to nothing yet: on the server (Single), the
    /// master (Sentinel), or the next node given (Cluster).
    pub(super) async fn pubsub(&self) -> redis::RedisResult<PubSub> {
        let client = match &self.maker {
            Maker::Single(client) => client.clone(),
            Maker::Cluster(cluster) => {
                cluster.nodes[self.next.fetch_add(1, Relaxed) % cluster.nodes.len()].clone()
            }
            Maker::Sentinel { .. } => match lock(&self.master).as_ref() {
                Some((_, client)) => client.clone(),
                None => {
                    return Err(redis::RedisError::from((
                        redis::ErrorKind::Client,
                        "no master found yet",
                    )))
                }
            },
        };
        client.get_async_pubsub().await
    }

    /// A connection of its own whose answers may take [`BULK_TIMEOUT`] (the connection
    /// of the moment gives up after `op_timeout`): for one large transfer.
    pub(super) async fn bulk(&self) -> redis::RedisResult<Conn> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(BULK_TIMEOUT));
        let client = match &self.maker {
            Maker::Single(client) => client.clone(),
            Maker::Cluster(cluster) => {
                return Ok(Conn::Cluster(cluster.bulk.get_async_connection().await?))
            }
            Maker::Sentinel { .. } => match lock(&self.master).as_ref() {
                Some((_, client)) => client.clone(),
                None => {
                    return Err(redis::RedisError::from((
                        redis::ErrorKind::Client,
                        "no master found yet",
                    )))
                }
            },
        };
        Ok(Conn::Plain(
            client
                .get_multiplexed_async_connection_with_config(&config)
                .await?,
        ))
    }

    /// Sentinel: the master's address now, for tests and logs.
    pub(super) fn master_addr(&self) -> Option<String> {
        lock(&self.master).as_ref().map(|(addr, _)| addr.clone())
    }
}

/// A client for `url`, trusting `ca` (PEM) for `rediss://` when given. `InvalidUrl`
/// (without the password) when it does not parse or asks for TLS not built in.
fn open_client(url: &str, ca: Option<&[u8]>) -> Result<Client, ClusterError> {
    let invalid = |reason: String| ClusterError::InvalidUrl {
        url: redact(url),
        reason: scrub(&reason, url),
    };
    let tls = url.starts_with("rediss://") || url.starts_with("valkeys://");
    if tls && !cfg!(feature = "redis-tls") {
        return Err(invalid(
            "`rediss://` (TLS) needs the feature `redis-tls` of `resilience`".into(),
        ));
    }
    #[cfg(feature = "redis-tls")]
    if let (true, Some(pem)) = (tls, ca) {
        return Client::build_with_tls(
            url,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.to_vec()),
            },
        )
        .map_err(|e| invalid(e.to_string()));
    }
    let _ = ca;
    Client::open(url).map_err(|e| invalid(e.to_string()))
}

#[cfg(feature = "redis-tls")]
fn with_ca(builder: ClusterClientBuilder, pem: &[u8]) -> ClusterClientBuilder {
    builder.certs(redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem.to_vec()),
    })
}

#[cfg(not(feature = "redis-tls"))]
fn with_ca(builder: ClusterClientBuilder, _: &[u8]) -> ClusterClientBuilder {
    builder
}

fn scrub_all(reason: &str, topology: &Topology) -> String {
    topology
        .urls()
        .into_iter()
        .fold(redact(reason), |text, url| scrub(&text, url))
}

/// `mymaster` → (`mymaster`, `redis://`, ``); `rediss://u:p@mymaster/2` → (`mymaster`,
/// `rediss://u:p@`, `/2`).
fn master_parts(master: &str) -> (String, String, String) {
    let Some(at) = master.find("://") else {
        return (master.trim().to_owned(), "redis://".into(), String::new());
    };
    let (scheme, rest) = master.split_at(at + 3);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, suffix) = rest.split_at(end);
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    (
        host.to_owned(),
        format!("{scheme}{userinfo}"),
        suffix.to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masters_url_splits_around_its_name() {
        assert_eq!(
            master_parts("mymaster"),
            ("mymaster".into(), "redis://".into(), String::new())
        );
        assert_eq!(
            master_parts("rediss://app:pw@mymaster/2"),
            ("mymaster".into(), "rediss://app:pw@".into(), "/2".into())
        );
    }

    #[test]
    fn topologies_are_shown_without_passwords() {
        let t = Topology::Sentinel {
            sentinels: vec!["redis://:sentinelpw@127.0.0.1:26379".into()],
            master: "redis://app:masterpw@mymaster/1".into(),
        };
        let shown = format!("{} {t:?}", t.shown());
        assert!(
            !shown.contains("sentinelpw") && !shown.contains("masterpw"),
            "{shown}"
        );
        assert!(shown.contains("redis://app:***@mymaster/1"), "{shown}");
        let c = Topology::Cluster(vec!["redis://:pw1@a:1".into(), "redis://:pw2@b:2".into()]);
        assert_eq!(
            c.shown(),
            "Redis Cluster [redis://:***@a:1, redis://:***@b:2]"
        );
    }

    #[test]
    fn an_empty_topology_is_refused_naming_the_field() {
        let config = ClusterConfig::default();
        let err = Link::new(Topology::Cluster(vec![]), &config).err().unwrap();
        assert!(err.to_string().contains("nodes"), "{err}");
        let err = Link::new(
            Topology::Sentinel {
                sentinels: vec!["redis://127.0.0.1:1".into()],
                master: "redis://:pw@/0".into(),
            },
            &config,
        )
        .err()
        .unwrap();
        assert!(
            err.to_string().contains("master") && !err.to_string().contains("pw@"),
            "{err}"
        );
    }
}
