//! The tower layers of `resilience` on axum routes, with the usual `HandleErrorLayer`
//! recipe, and each refusal answering HTTP (feature `axum`):
//! `cargo run -p resilience-tests --example axum_routes --features axum`.
//!
//! Four routes, each behind one layer; `resilience::axum::handle_error` turns a layer's
//! refusal into its answer:
//!
//! - `/orders` behind the breaker [`ORDERS`]: a 5xx answer is a failure (`failure_if`);
//!   its failure rate is over the calls of the last 10 s (`rate_window`), and each
//!   failed trial keeps it open twice as long, up to 2 minutes (`recovery_factor`,
//!   `max_recovery_timeout`). Open: `503` with `Retry-After`.
//! - `/search` behind the rate limit [`SEARCH`], one call a minute: `429` with
//!   `Retry-After`.
//! - `/report` behind the bulkhead [`REPORT`], one call at a time, no waiting: `503`.
//! - `/slow` behind a 100 ms timeout: `504`.
//!
//! `main` starts the server on a loopback port, walks each route into its refusal and
//! prints the answers. The test `tests/tests/axum_routes.rs` includes this file and
//! drives [`start`] over HTTP.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use resilience::axum::handle_error;
use resilience::tower::{BulkheadLayer, CircuitBreakerLayer, RateLimitLayer, TimeoutLayer};
use resilience::{BreakerConfig, BulkheadConfig, RateLimitConfig};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{BoxError, ServiceBuilder};

/// The breaker in front of `/orders`, in `resilience::registry()`.
pub const ORDERS: &str = "axum-example.orders";
/// The rate limiter in front of `/search`.
pub const SEARCH: &str = "axum-example.search";
/// The bulkhead in front of `/report`.
pub const REPORT: &str = "axum-example.report";

/// The breaker's configuration: the rates over a time window, an open period that
/// grows while trials fail.
pub fn orders_breaker() -> BreakerConfig {
    BreakerConfig {
        failure_rate: Some(50.0),
        minimum_calls: 4,
        rate_window: Some(Duration::from_secs(10)),
        recovery_timeout: Duration::from_secs(30),
        recovery_factor: 2.0,
        max_recovery_timeout: Some(Duration::from_secs(120)),
        success_threshold: 1,
        ..BreakerConfig::default()
    }
}

/// What the test and `main` steer: whether `/orders` fails, and when a `/report` ends.
#[derive(Clone)]
pub struct Handles {
    failing: Arc<AtomicBool>,
    report_done: Arc<Semaphore>,
}

impl Handles {
    /// Makes `/orders` answer `500` (`true`) or `200` (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Lets one running `/report` answer.
    pub fn finish_report(&self) {
        self.report_done.add_permits(1);
    }
}

async fn orders(State(handles): State<Handles>) -> Response {
    if handles.failing.load(Ordering::SeqCst) {
        (StatusCode::INTERNAL_SERVER_ERROR, "orders are down").into_response()
    } else {
        "3 orders".into_response()
    }
}

async fn search() -> &'static str {
    "found"
}

async fn report(State(handles): State<Handles>) -> &'static str {
    // Held open until the test (or `main`) lets it end; a semaphore never closed.
    if let Ok(permit) = handles.report_done.acquire().await {
        permit.forget();
    }
    "report"
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "too late"
}

/// The router: each route's handler behind its layer, the recipe being
/// `HandleErrorLayer(handle_error)` outermost, then the layer, then the handler's
/// `Infallible` error made a `BoxError` (what the layer and `handle_error` take).
pub fn router(handles: Handles) -> Router {
    Router::new()
        .route(
            "/orders",
            get(orders).layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(handle_error))
                    .layer(
                        CircuitBreakerLayer::new(ORDERS)
                            .config(orders_breaker())
                            .failure_if(|response: &Response| response.status().is_server_error()),
                    )
                    .map_err(BoxError::from),
            ),
        )
        .route(
            "/search",
            get(search).layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(handle_error))
                    .layer(RateLimitLayer::new(SEARCH).config(RateLimitConfig {
                        limit: 1,
                        per: Duration::from_secs(60),
                        ..RateLimitConfig::default()
                    }))
                    .map_err(BoxError::from),
            ),
        )
        .route(
            "/report",
            get(report).layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(handle_error))
                    .layer(BulkheadLayer::new(REPORT).config(BulkheadConfig {
                        max_concurrent: 1,
                        max_wait: Duration::ZERO,
                        ..BulkheadConfig::default()
                    }))
                    .map_err(BoxError::from),
            ),
        )
        .route(
            "/slow",
            get(slow).layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(handle_error))
                    .layer(TimeoutLayer::new(Duration::from_millis(100)).name("axum-example.slow"))
                    .map_err(BoxError::from),
            ),
        )
        .with_state(handles)
}

/// A running server.
pub struct Running {
    /// Where it listens (127.0.0.1, an ephemeral port).
    pub addr: SocketAddr,
    /// Its steering.
    pub handles: Handles,
}

/// Starts the server on an ephemeral loopback port; it runs until the tokio runtime it
/// was started on shuts down.
pub async fn start() -> Result<Running, BoxError> {
    let handles = Handles {
        failing: Arc::new(AtomicBool::new(false)),
        report_done: Arc::new(Semaphore::new(0)),
    };
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let app = router(handles.clone());
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("server on {addr} stopped: {error}");
        }
    });
    Ok(Running { addr, handles })
}

/// An answer: its status, headers and body as text.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers (`retry-after` among them, or not).
    pub headers: HeaderMap,
    /// The body.
    pub body: String,
}

impl Answer {
    /// `Retry-After` in seconds, if the answer has one.
    pub fn retry_after(&self) -> Option<u64> {
        let value = self.headers.get("retry-after")?;
        value.to_str().ok()?.parse().ok()
    }
}

/// `GET http://{addr}{path}`.
pub async fn get_path(addr: SocketAddr, path: &str) -> Result<Answer, BoxError> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client.get(format!("http://{addr}{path}").parse()?).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let Running { addr, handles } = start().await?;
    let show = |path: &'static str| async move {
        let answer = get_path(addr, path).await?;
        let wait = answer
            .retry_after()
            .map_or_else(String::new, |s| format!(" (Retry-After: {s})"));
        println!("GET {path:<8} -> {}{wait} {}", answer.status, answer.body);
        Ok::<_, BoxError>(answer)
    };

    show("/orders").await?;
    handles.set_failing(true);
    // 500s until half of at least 4 calls in 10 s failed; then 503, Retry-After: 30.
    for _ in 0..4 {
        show("/orders").await?;
    }

    show("/search").await?;
    show("/search").await?; // 429, Retry-After: 60

    let running = tokio::spawn(get_path(addr, "/report"));
    tokio::time::sleep(Duration::from_millis(50)).await; // let it take the one place
    show("/report").await?; // 503
    handles.finish_report();
    let first = running.await??;
    println!(
        "GET /report   -> {} {} (the first, let through)",
        first.status, first.body
    );

    show("/slow").await?; // 504
    Ok(())
}
