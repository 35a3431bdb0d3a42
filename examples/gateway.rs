//! An orders gateway in front of a flaky upstream, every part of `resilience` a gateway
//! uses in one place (features `axum`, `reqwest`, `config`, `redis`):
//! `cargo run -p resilience-tests --example gateway --features axum,reqwest,config,redis`
//! (needs `redis-server` on the PATH: it starts its own on a free loopback port).
//!
//! - **The upstream** ([`start_upstream`]): an axum server on 127.0.0.1 whose
//!   `GET /orders` answers `500` while it is made to fail, and `GET /quote` always answers.
//! - **The gateway** ([`start_gateway`]): an axum server on 127.0.0.1 whose routes carry
//!   the tower layers, with `HandleErrorLayer(resilience::axum::handle_error)` turning
//!   each refusal into its HTTP answer (`503` with `Retry-After` for an open breaker or a
//!   full bulkhead, `429` with `Retry-After` for a spent rate limit, `504` for a timeout):
//!   - `GET /orders`: the breaker [`ORDERS`] (a `5xx` of the route is a failure), the
//!     bulkhead [`ORDERS`] and a 5 s timeout, in that order, outermost first;
//!   - `GET /search`: the rate limit [`SEARCH`], one per tenant (the `x-tenant` header);
//!   - `GET /quote`: the fleet's rate limit [`FLEET`], `#[rate_limit(scope = cluster)]`,
//!     shared through Redis by every gateway instance connected to it.
//! - **The upstream calls**: a reqwest client with [`ResilienceMiddleware`] (a breaker per
//!   upstream host, [`UPSTREAM`]), under a tower [`RetryLayer`] that retries a `5xx`.
//! - **The configuration**: `examples/gateway.toml`, loaded and watched
//!   ([`resilience::config::watch_every`]): the breaker's threshold, the bulkhead's size
//!   and the search limit come from it, and an edit takes effect while the gateway runs.
//!   Its rules (what a table sets, what a removed table does, how durations are written)
//!   are in `docs/configuration.md`.
//!
//! `main` starts a `redis-server`, the upstream and one gateway, then walks each route
//! into its refusal and prints the answers. The test `tests/tests/gateway.rs` includes
//! this file and runs three gateway processes against one Redis.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use resilience::axum::handle_error;
use resilience::reqwest::ResilienceMiddleware;
use resilience::retry::{Backoff, Jitter};
use resilience::tower::{
    BulkheadLayer, CircuitBreakerLayer, RateLimitLayer, RetryLayer, TimeoutLayer,
};
use resilience::{rate_limit, BreakerConfig, CircuitOpen, RateLimited, RetryConfig};
use tokio::net::TcpListener;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder, ServiceExt};

/// The breaker and the bulkhead in front of `GET /orders` (configured by the file).
pub const ORDERS: &str = "gateway.orders";
/// The per-tenant rate limit of `GET /search` (configured by the file).
pub const SEARCH: &str = "gateway.search";
/// The fleet's rate limit of `GET /quote`: [`FLEET_LIMIT`] a minute across every instance.
pub const FLEET: &str = "gateway.fleet";
/// The calls the whole fleet may make to `GET /quote` per minute (and at once, after idle:
/// the burst defaults to the limit).
pub const FLEET_LIMIT: u64 = 10;
/// The reqwest middleware's breakers, one per upstream host and port.
pub const UPSTREAM: &str = "gateway.upstream";
/// The tower retry around each upstream call.
pub const UPSTREAM_RETRY: &str = "gateway.upstream-retry";
/// The configuration this example ships with, for a test to write where it likes.
pub const CONFIG: &str = include_str!("gateway.toml");

// ---------------------------------------------------------------------------------------
// The upstream

/// What steers the upstream, and what it counts.
#[derive(Clone)]
pub struct Upstream {
    failing: Arc<AtomicBool>,
    /// While `true`, `GET /orders` waits before answering (to fill a bulkhead).
    held: Arc<tokio::sync::watch::Sender<bool>>,
    orders: Arc<AtomicU64>,
    quotes: Arc<AtomicU64>,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            failing: Arc::default(),
            held: Arc::new(tokio::sync::watch::Sender::new(false)),
            orders: Arc::default(),
            quotes: Arc::default(),
        }
    }
}

impl Upstream {
    /// Holds every `GET /orders` (`true`) until released (`false`).
    pub fn set_held(&self, held: bool) {
        self.held.send_replace(held);
    }

    /// Makes `GET /orders` answer `500` (`true`) or `200` (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// The `GET /orders` requests it received.
    pub fn orders_served(&self) -> u64 {
        self.orders.load(Ordering::SeqCst)
    }

    /// The `GET /quote` requests it received.
    pub fn quotes_served(&self) -> u64 {
        self.quotes.load(Ordering::SeqCst)
    }
}

async fn upstream_orders(State(upstream): State<Upstream>) -> Response {
    upstream.orders.fetch_add(1, Ordering::SeqCst);
    // The sender lives as long as `upstream`, so this ends when released.
    let _ = upstream.held.subscribe().wait_for(|held| !held).await;
    if upstream.failing.load(Ordering::SeqCst) {
        (StatusCode::INTERNAL_SERVER_ERROR, "orders database down").into_response()
    } else {
        "3 orders".into_response()
    }
}

async fn upstream_quote(State(upstream): State<Upstream>) -> &'static str {
    upstream.quotes.fetch_add(1, Ordering::SeqCst);
    "quote: 42"
}

/// Starts the upstream on an ephemeral loopback port, on the current tokio runtime.
pub async fn start_upstream() -> Result<(SocketAddr, Upstream), BoxError> {
    let upstream = Upstream::default();
    let app = Router::new()
        .route("/orders", get(upstream_orders))
        .route("/quote", get(upstream_quote))
        .with_state(upstream.clone());
    Ok((serve(app).await?, upstream))
}

// ---------------------------------------------------------------------------------------
// The gateway

/// The error of the fleet's rate limit: its one refusal.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The fleet spent its rate: answered `429` with `Retry-After`.
    #[error(transparent)]
    Limited(#[from] RateLimited),
}

/// Admits one `GET /quote` for the whole fleet: with `scope = cluster`, Redis decides
/// across every instance connected to it (before `cluster::connect`, this instance's own
/// limiter decides, with a WARN).
#[rate_limit(name = "gateway.fleet", limit = 10, per = 60s, scope = cluster, expected_instances = 3)]
pub async fn admit_to_fleet() -> Result<(), FleetError> {
    Ok(())
}

/// An upstream call: a `GET` of a URL, retried on a `5xx` by the tower [`RetryLayer`],
/// sent through the reqwest middleware's breaker for the host.
type UpstreamCall = BoxCloneSyncService<String, reqwest::Response, reqwest_middleware::Error>;

#[derive(Clone)]
struct Gateway {
    upstream: SocketAddr,
    call: UpstreamCall,
}

/// The upstream calls' retry: three calls in all, 20 ms apart.
pub fn upstream_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        backoff: Backoff::Fixed(Duration::from_millis(20)),
        jitter: Jitter::None,
        ..RetryConfig::default()
    }
}

/// The client the gateway calls its upstream with: one breaker per host and port
/// (`registry().breaker_for(UPSTREAM, "127.0.0.1:PORT")`); its own retries are off,
/// since the tower [`RetryLayer`] around it retries.
fn upstream_client() -> Result<ClientWithMiddleware, BoxError> {
    // `.breaker(..)` and `.retry(..)` validate what they are given: a `Result`.
    let middleware = ResilienceMiddleware::new()
        .name(UPSTREAM)
        .breaker(BreakerConfig {
            failure_threshold: 10,
            recovery_timeout: Duration::from_secs(5),
            ..BreakerConfig::default()
        })?
        .retry(RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        })?;
    Ok(ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build())
}

fn upstream_call(client: ClientWithMiddleware) -> UpstreamCall {
    let send = tower::service_fn(move |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await }
    });
    let service = ServiceBuilder::new()
        .layer(
            RetryLayer::new(upstream_retry())
                .name(UPSTREAM_RETRY)
                // An open upstream breaker is not retried; a connection refused is.
                .retry_if(|error: &reqwest_middleware::Error| error.is_connect())
                .retry_response(|response: &reqwest::Response| response.status().is_server_error()),
        )
        .service(send);
    BoxCloneSyncService::new(service)
}

impl Gateway {
    /// `GET {upstream}{path}`, its answer passed on: a `5xx` stays a `5xx` (`502` when
    /// the upstream could not be reached), an open upstream breaker answers `503`.
    async fn forward(&self, path: &str) -> Response {
        let url = format!("http://{}{path}", self.upstream);
        match self.call.clone().oneshot(url).await {
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                (status, body).into_response()
            }
            Err(reqwest_middleware::Error::Middleware(error)) => {
                match error.downcast_ref::<CircuitOpen>() {
                    Some(open) => open.clone().into_response(),
                    None => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
                }
            }
            Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
        }
    }
}

async fn orders(State(gateway): State<Gateway>) -> Response {
    gateway.forward("/orders").await
}

async fn search(headers: HeaderMap) -> String {
    let tenant = headers
        .get("x-tenant")
        .and_then(|t| t.to_str().ok())
        .unwrap_or("anonymous");
    format!("results for {tenant}")
}

async fn quote(State(gateway): State<Gateway>) -> Response {
    if let Err(FleetError::Limited(refused)) = admit_to_fleet().await {
        return refused.into_response();
    }
    gateway.forward("/quote").await
}

/// The tenant of a request: its `x-tenant` header (or `anonymous`).
fn tenant(request: &Request) -> String {
    request
        .headers()
        .get("x-tenant")
        .and_then(|t| t.to_str().ok())
        .unwrap_or("anonymous")
        .to_owned()
}

/// The gateway's routes. The breaker, the bulkhead and the rate limit take their
/// configuration from the registry, where the file put it: load the file first.
fn router(gateway: Gateway) -> Router {
    Router::new()
        .route(
            "/orders",
            get(orders).layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(handle_error))
                    .layer(
                        CircuitBreakerLayer::new(ORDERS)
                            .failure_if(|response: &Response| response.status().is_server_error()),
                    )
                    .layer(BulkheadLayer::new(ORDERS))
                    .layer(TimeoutLayer::new(Duration::from_secs(5)).name("gateway.orders.timeout"))
                    .map_err(BoxError::from),
            ),
        )
        .route(
            "/search",
            get(search).layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(handle_error))
                    .layer(RateLimitLayer::new(SEARCH).key(tenant))
                    .map_err(BoxError::from),
            ),
        )
        .route("/quote", get(quote))
        .with_state(gateway)
}

/// Starts a gateway in front of `upstream` on an ephemeral loopback port, on the current
/// tokio runtime. Load the configuration (and `cluster::connect`) before: the layers
/// read the registry's configuration when the routes are built.
pub async fn start_gateway(upstream: SocketAddr) -> Result<SocketAddr, BoxError> {
    let gateway = Gateway {
        upstream,
        call: upstream_call(upstream_client()?),
    };
    serve(router(gateway)).await
}

/// Serves `app` on an ephemeral port of 127.0.0.1 until the runtime shuts down.
async fn serve(app: Router) -> Result<SocketAddr, BoxError> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("server on {addr} stopped: {error}");
        }
    });
    Ok(addr)
}

/// Watches `path` (every 50 ms, so an edit shows at once in a demo or a test).
pub fn watch_config(path: &Path) -> Result<resilience::config::Watcher, BoxError> {
    Ok(resilience::config::watch_every(
        path,
        Duration::from_millis(50),
    )?)
}

// ---------------------------------------------------------------------------------------
// A client's view

/// An answer of the gateway: its status, `Retry-After` in seconds if any, and its body.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// `Retry-After`, in whole seconds.
    pub retry_after: Option<u64>,
    /// The body, as text.
    pub body: String,
}

/// `GET http://{addr}{path}`, with an `x-tenant` header when given.
pub async fn get_path(
    client: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    tenant: Option<&str>,
) -> Result<Answer, BoxError> {
    let mut request = client.get(format!("http://{addr}{path}"));
    if let Some(tenant) = tenant {
        request = request.header("x-tenant", tenant);
    }
    let response = request.send().await?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = response.text().await?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let redis = resilience_tests::redis_server::RedisServer::start()?;
    resilience::cluster::connect(&redis.url()).await?;

    let dir = std::env::temp_dir().join(format!("resilience-gateway-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("gateway.toml");
    std::fs::write(&config, CONFIG)?;
    let watcher = watch_config(&config)?;

    let (upstream_addr, upstream) = start_upstream().await?;
    let gateway = start_gateway(upstream_addr).await?;
    println!(
        "upstream on {upstream_addr}, gateway on {gateway}, redis on {}",
        redis.url()
    );

    let client = reqwest::Client::new();
    let show = |path: &'static str, tenant: Option<&'static str>| {
        let client = client.clone();
        async move {
            let answer = get_path(&client, gateway, path, tenant).await?;
            let wait = answer
                .retry_after
                .map_or_else(String::new, |s| format!(" (Retry-After: {s})"));
            let who = tenant.map_or_else(String::new, |t| format!(" [{t}]"));
            println!(
                "GET {path:<8}{who} -> {}{wait} {}",
                answer.status, answer.body
            );
            Ok::<_, BoxError>(answer)
        }
    };

    show("/orders", None).await?;
    upstream.set_failing(true);
    // Each 5xx is retried twice by the RetryLayer, then counted by the route's breaker:
    // the third opens it (failure_threshold = 3), then 503 with Retry-After.
    for _ in 0..4 {
        show("/orders", None).await?;
    }
    upstream.set_failing(false);

    // Two searches a minute per tenant (the file), then 429.
    for _ in 0..3 {
        show("/search", Some("acme")).await?;
    }
    // Raise it in the file: the watcher applies it; a new tenant gets the new limit.
    std::fs::write(&config, CONFIG.replace("limit = 2", "limit = 4"))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..5 {
        show("/search", Some("globex")).await?;
    }

    // The fleet's limit, shared through Redis: this instance alone may spend all of it.
    for _ in 0..=FLEET_LIMIT {
        show("/quote", None).await?;
    }

    drop(watcher);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
