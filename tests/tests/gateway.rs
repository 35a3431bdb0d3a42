//! The gateway example (`examples/gateway.rs`) against real servers: a `redis-server` of
//! the test's own on a free 127.0.0.1 port, the example's flaky upstream, and three
//! gateway processes (three registries, three cluster instances) in front of it.
//!
//! The test binary is its own gateway: it re-runs itself as child processes
//! (`RESILIENCE_GATEWAY_CHILD` set), each connecting to Redis, watching the shared
//! configuration file and serving the gateway on a loopback port it prints as
//! `@@ addr ...`; it stops when its stdin closes. Every loop is bounded in count and
//! time, and nothing asserts on how long anything took.
//! `cargo test -p resilience-tests --features axum,reqwest,config,redis --test gateway`
//! (needs `redis-server` on the PATH).

// The example's `main` is dead code here.
#[allow(dead_code)]
#[path = "../../examples/gateway.rs"]
mod example;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use example::{get_path, Answer, Upstream, FLEET_LIMIT};
use resilience_tests::redis_server::RedisServer;
use tower::BoxError;

const CHILD: &str = "RESILIENCE_GATEWAY_CHILD";

fn main() {
    if std::env::var_os(CHILD).is_some() {
        if let Err(error) = child() {
            eprintln!("gateway child failed: {error}");
            std::process::exit(1);
        }
        return;
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if filter
        .as_deref()
        .is_some_and(|f| !"gateway_scenario".contains(f))
    {
        println!("running 0 tests");
        return;
    }
    println!("running 1 test");
    gateway_scenario();
    println!("test gateway_scenario ... ok");
}

/// One gateway instance: its configuration from the environment the parent set.
fn child() -> Result<(), BoxError> {
    let redis = std::env::var("GATEWAY_REDIS")?;
    let upstream: SocketAddr = std::env::var("GATEWAY_UPSTREAM")?.parse()?;
    let config = PathBuf::from(std::env::var("GATEWAY_CONFIG")?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        resilience::cluster::connect(&redis).await?;
        let _watcher = example::watch_config(&config)?;
        let addr = example::start_gateway(upstream).await?;
        println!("@@ addr {addr}");
        std::io::stdout().flush()?;
        // Serve until the parent closes stdin (or goes away).
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
            }
        })
        .await?;
        Ok(())
    })
}

/// A gateway child process, killed when dropped.
struct Instance {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl Instance {
    fn spawn(redis: &str, upstream: SocketAddr, config: &Path) -> Instance {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut child = Command::new(exe)
            .env(CHILD, "1")
            .env("GATEWAY_REDIS", redis)
            .env("GATEWAY_UPSTREAM", upstream.to_string())
            .env("GATEWAY_CONFIG", config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("a gateway child starts");
        let stdout = child.stdout.take().expect("piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("@@ addr ") {
                    let _ = sender.send(addr.to_owned());
                }
            }
        });
        let addr = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the gateway child printed its address within 30 s")
            .parse()
            .expect("an address");
        let stdin = child.stdin.take();
        Instance { child, stdin, addr }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gateway_scenario() {
    let redis = RedisServer::start().expect("redis-server on a free loopback port");
    let dir = std::env::temp_dir().join(format!("resilience-gateway-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let config = dir.join("gateway.toml");
    std::fs::write(&config, example::CONFIG).expect("the configuration written");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (upstream_addr, upstream) = runtime
        .block_on(example::start_upstream())
        .expect("the upstream starts");
    let instances: Vec<Instance> = (0..3)
        .map(|_| Instance::spawn(&redis.url(), upstream_addr, &config))
        .collect();
    let gateways: Vec<SocketAddr> = instances.iter().map(|i| i.addr).collect();
    let client = reqwest::Client::new();

    runtime.block_on(async {
        the_fleet_admits_its_limit_not_three_times_it(&client, &gateways, &upstream).await;
        a_spent_rate_answers_429_and_a_reload_changes_the_limit(&client, gateways[0], &config)
            .await;
        a_full_bulkhead_answers_503_and_the_held_calls_complete(&client, gateways[2], &upstream)
            .await;
        a_failing_upstream_opens_the_route_breaker_503_with_retry_after(
            &client,
            gateways[1],
            &upstream,
        )
        .await;
    });

    drop(instances);
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn get(
    client: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    tenant: Option<&str>,
) -> Answer {
    get_path(client, addr, path, tenant)
        .await
        .unwrap_or_else(|e| panic!("GET {path} on {addr}: {e}"))
}

/// Three instances, each asked 20 times for `/quote`, share the fleet's 10 a minute
/// through Redis: about 10 answered in all (each instance's own limiter would have
/// admitted 10 alone, 30 together), every other one a 429 with `Retry-After`.
async fn the_fleet_admits_its_limit_not_three_times_it(
    client: &reqwest::Client,
    gateways: &[SocketAddr],
    upstream: &Upstream,
) {
    let start = Instant::now();
    let (mut admitted, mut refused) = (0u64, 0u64);
    for _ in 0..20 {
        for &gateway in gateways {
            let answer = get(client, gateway, "/quote", None).await;
            match answer.status {
                StatusCode::OK => admitted += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    refused += 1;
                    let wait = answer.retry_after.expect("a 429 carries Retry-After");
                    assert!((1..=60).contains(&wait), "Retry-After {wait}");
                }
                other => panic!("/quote answered {other}: {}", answer.body),
            }
        }
    }
    // The burst (10) at once, then one call every 6 s: at most one more per 6 s passed.
    let refill = start.elapsed().as_secs() / 6 + 1;
    println!(
        "    fleet: {admitted} admitted, {refused} refused by three instances in {:.2?}",
        start.elapsed()
    );
    assert_eq!(admitted + refused, 60);
    assert!(
        admitted >= FLEET_LIMIT,
        "the fleet admitted {admitted}, under its burst of {FLEET_LIMIT}"
    );
    assert!(
        admitted <= FLEET_LIMIT + refill,
        "the fleet admitted {admitted}: more than its limit ({FLEET_LIMIT} + {refill} refilled)"
    );
    assert_eq!(
        upstream.quotes_served(),
        admitted,
        "a refused call reached the upstream"
    );
}

/// `/search` allows each tenant 2 a minute (the file): the third is a 429 with
/// `Retry-After`. Raising the limit in the watched file reaches the running gateway: a
/// new tenant then gets 4.
async fn a_spent_rate_answers_429_and_a_reload_changes_the_limit(
    client: &reqwest::Client,
    gateway: SocketAddr,
    config: &Path,
) {
    for _ in 0..2 {
        let answer = get(client, gateway, "/search", Some("acme")).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }
    let refused = get(client, gateway, "/search", Some("acme")).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{refused:?}");
    let wait = refused.retry_after.expect("a 429 carries Retry-After");
    assert!(
        (1..=30).contains(&wait),
        "Retry-After {wait}: one call per 30 s"
    );

    let raised = example::CONFIG.replace("limit = 2", "limit = 4");
    assert_ne!(
        raised,
        example::CONFIG,
        "the example's file has `limit = 2`"
    );
    std::fs::write(config, raised).expect("the configuration rewritten");

    // The watcher looks every 50 ms: probe with fresh tenants until one gets a third call.
    let mut seen = None;
    for probe in 0..100 {
        let tenant = format!("probe-{probe}");
        let mut third = None;
        for _ in 0..3 {
            third = Some(get(client, gateway, "/search", Some(&tenant)).await.status);
        }
        if third == Some(StatusCode::OK) {
            seen = Some(probe);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("    reload: seen after {seen:?} probes");
    assert!(seen.is_some(), "the raised limit never reached the gateway");

    let statuses: Vec<StatusCode> = {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(get(client, gateway, "/search", Some("globex")).await.status);
        }
        statuses
    };
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "a new tenant after the reload"
    );
}

/// The upstream fails: each `/orders` is tried three times (the `RetryLayer`) and its
/// `500` passed on; the third such answer opens the route's breaker
/// (`failure_threshold = 3` from the file), which then answers `503` with `Retry-After`
/// without calling the upstream.
async fn a_failing_upstream_opens_the_route_breaker_503_with_retry_after(
    client: &reqwest::Client,
    gateway: SocketAddr,
    upstream: &Upstream,
) {
    let ok = get(client, gateway, "/orders", None).await;
    assert_eq!((ok.status, ok.body.as_str()), (StatusCode::OK, "3 orders"));

    upstream.set_failing(true);
    let before = upstream.orders_served();
    for call in 0..3 {
        let answer = get(client, gateway, "/orders", None).await;
        assert_eq!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "call {call}: {answer:?}"
        );
    }
    assert_eq!(
        upstream.orders_served() - before,
        9,
        "three calls, each tried three times by the RetryLayer"
    );

    let open = upstream.orders_served();
    for call in 0..3 {
        let answer = get(client, gateway, "/orders", None).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "call {call} after the third failure: {answer:?}"
        );
        assert!(
            answer.body.contains(example::ORDERS),
            "not the route's breaker: {answer:?}"
        );
        let wait = answer
            .retry_after
            .expect("an open breaker's 503 carries Retry-After");
        assert!(
            (1..=30).contains(&wait),
            "Retry-After {wait} (recovery_timeout = 30s)"
        );
    }
    assert_eq!(
        upstream.orders_served(),
        open,
        "the open breaker let a call reach the upstream"
    );
    upstream.set_failing(false);
}

/// The upstream holds its answers: 8 `/orders` in flight fill the bulkhead
/// (`max_concurrent = 8` from the file), so the 9th is refused at once with a `503`
/// naming it; released, the 8 answer `200`.
async fn a_full_bulkhead_answers_503_and_the_held_calls_complete(
    client: &reqwest::Client,
    gateway: SocketAddr,
    upstream: &Upstream,
) {
    upstream.set_held(true);
    let before = upstream.orders_served();
    let running: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { get(&client, gateway, "/orders", None).await })
        })
        .collect();
    // Bounded: until the upstream holds all 8 (each took a place on its way).
    let mut holding = 0;
    for _ in 0..200 {
        holding = upstream.orders_served() - before;
        if holding == 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(holding, 8, "the upstream never held the 8 calls");

    let refused = get(client, gateway, "/orders", None).await;
    upstream.set_held(false);
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{refused:?}"
    );
    assert!(
        refused.body.contains("bulkhead") && refused.body.contains(example::ORDERS),
        "not the bulkhead's refusal: {refused:?}"
    );
    assert_eq!(
        upstream.orders_served() - before,
        8,
        "the refused call reached the upstream"
    );
    for call in running {
        let answer = call.await.expect("the held call's task");
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::OK, "3 orders")
        );
    }
    // The refusal was load shedding, not a failure: the route still answers.
    let after = get(client, gateway, "/orders", None).await;
    assert_eq!(after.status, StatusCode::OK, "{after:?}");
}
