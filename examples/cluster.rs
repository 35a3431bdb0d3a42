//! Three processes sharing one rate limit and one circuit breaker through one Redis.
//!
//! ```text
//! cargo run -p resilience-tests --features redis --example cluster
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run -p resilience-tests --features redis --example cluster
//! ```
//!
//! Without `REDIS_URL` it starts a `redis-server` of its own on a free 127.0.0.1 port
//! (and stops it at the end). `REDIS_URL` may carry a password (`redis://:pw@host`) or an
//! ACL user (`redis://user:pw@host`); `REDIS_CLUSTER_NODES=redis://a:7000,redis://b:7000`
//! joins a Redis Cluster instead, and `REDIS_SENTINELS=redis://s1:26379,..` with
//! `REDIS_MASTER=mymaster` a master behind Sentinel (see `docs/cluster.md`). The process re-runs itself three times as instances
//! `api-1` .. `api-3`. Every instance asks the shared limiter (20 calls a second, bursts
//! of 5, for the three together) before calling its upstream; after 600 ms `api-1`'s
//! upstream starts failing, its breaker opens, and the opening reaches the other two.
//! Each prints what it admits and when its breaker changes state.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use resilience::cluster::{self, ClusterConfig, ClusterLimit, ClusterLimiter, Topology};
use resilience::{circuit_breaker, registry, BreakerState, CircuitOpen};
use resilience_tests::redis_server::RedisServer;

const ROLE: &str = "CLUSTER_EXAMPLE_INSTANCE";

#[derive(Debug, thiserror::Error)]
enum UpstreamError {
    #[error("the upstream failed")]
    Failed,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

#[circuit_breaker(name = "example.upstream", scope = cluster, failure_threshold = 3, recovery_timeout = 1s)]
async fn upstream(failing: bool) -> Result<&'static str, UpstreamError> {
    if failing {
        Err(UpstreamError::Failed)
    } else {
        Ok("200 OK")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(instance) = std::env::var(ROLE) {
        return instance_main(&instance);
    }
    // Keep the server (if we started one) alive until the instances are done.
    let mut own_server = None;
    let elsewhere =
        std::env::var("REDIS_CLUSTER_NODES").is_ok() || std::env::var("REDIS_SENTINELS").is_ok();
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) if elsewhere => String::new(),
        Err(_) => {
            let server = RedisServer::start()?;
            let url = server.url();
            println!("started redis-server at {url}");
            own_server = Some(server);
            url
        }
    };
    let mut children = Vec::new();
    for n in 1..=3 {
        let mut child = Command::new(std::env::current_exe()?)
            .env(ROLE, format!("api-{n}"))
            .env("REDIS_URL", &url)
            .stdout(Stdio::piped())
            .spawn()?;
        let out = child.stdout.take().ok_or("no stdout")?;
        let printer = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                println!("{line}");
            }
        });
        children.push((child, printer));
    }
    for (mut child, printer) in children {
        child.wait()?;
        let _ = printer.join();
    }
    drop(own_server);
    Ok(())
}

fn instance_main(instance: &str) -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let list = |var: &str| std::env::var(var).ok().map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>());
        let topology = match (list("REDIS_CLUSTER_NODES"), list("REDIS_SENTINELS")) {
            (Some(nodes), _) => Topology::Cluster(nodes),
            (None, Some(sentinels)) => Topology::Sentinel {
                sentinels,
                master: std::env::var("REDIS_MASTER").unwrap_or_else(|_| "mymaster".into()),
            },
            (None, None) => Topology::Single(std::env::var("REDIS_URL")?),
        };
        let config = ClusterConfig { instance: Some(instance.to_owned()), ..Default::default() };
        // An error shows the URL without its password.
        cluster::connect_to(topology, config).await?;
        let limiter = ClusterLimiter::new(
            "example.api",
            ClusterLimit { limit: 20, per: Duration::from_secs(1), burst: 5, expected_instances: 3 },
        )?;
        let start = Instant::now();
        let (mut admitted, mut refused) = (0u32, 0u32);
        let mut last_state = BreakerState::Closed;
        // 2.5 s of one call every 25 ms: 100 attempts per instance.
        for _ in 0..100 {
            let elapsed = start.elapsed().as_millis();
            if limiter.admit().await.is_admitted() {
                admitted += 1;
                let failing = instance == "api-1" && elapsed >= 600;
                if let Err(UpstreamError::Open(open)) = upstream(failing).await {
                    let _ = open; // refused by the (cluster's) open breaker
                }
            } else {
                refused += 1;
            }
            let state = registry()
                .breaker("example.upstream")
                .map_or(BreakerState::Closed, |b| b.state());
            if state != last_state {
                println!("[{instance}] t={elapsed:>4} ms  breaker example.upstream: {last_state} -> {state}");
                last_state = state;
            }
            if elapsed / 500 != (elapsed + 25) / 500 {
                println!("[{instance}] t={elapsed:>4} ms  admitted {admitted:>3}, refused {refused:>3} so far");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let s = limiter.stats();
        println!(
            "[{instance}] done: admitted {} (by Redis {}), refused {} ({} without a round trip); live instances: {}",
            s.admitted(),
            s.cluster_admitted,
            s.cluster_refused + s.cached_refused + s.local_refused,
            s.cached_refused,
            registry().health().cluster.live_instances,
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
