//! The operator's page on a small service: a breaker, a bulkhead, a rate limiter, an
//! adaptive limit and a retry, `resilience::admin::router` mounted at `/admin`, and the
//! metrics (the call and attempt duration histograms among them) as Prometheus text on
//! `/metrics` through `metrics-exporter-prometheus`.
//!
//! ```text
//! RESILIENCE_ADMIN_TOKEN=s3cret cargo run -p resilience-tests --example admin --features admin
//! # then open http://127.0.0.1:3000/admin ; `curl -X POST 127.0.0.1:3000/kanban/fail`
//! # a few times and watch the breaker open; its buttons ask for the token.
//! ```
//!
//! The browser test (`tests/admin_browser.rs`) runs this same service, from [`app`].

use std::error::Error;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use resilience::admin::{router, AdminConfig};
use resilience::{
    adaptive_limit, bulkhead, circuit_breaker, rate_limit, retry, BulkheadFull, CircuitOpen,
    MarcusError, Overloaded, RateLimited,
};
use tokio::net::TcpListener;

type BoxError = Box<dyn Error + Send + Sync>;

/// What the service's dependencies answer.
#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
pub enum AppError {
    #[error("the dependency failed")]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
}

/// The board service: opens after three failures in a row, tries again after a minute.
#[circuit_breaker(name = "kanban", failure_threshold = 3, recovery_timeout = 60s)]
pub async fn kanban(fail: bool) -> Result<&'static str, AppError> {
    if fail {
        Err(AppError::Down)
    } else {
        Ok("board")
    }
}

/// Uploads, four at a time.
#[bulkhead(name = "uploads", max_concurrent = 4)]
pub async fn upload() -> Result<&'static str, AppError> {
    Ok("stored")
}

/// A paid API: 60 calls a minute.
#[rate_limit(name = "openai", limit = 60, per = 1m)]
pub async fn complete() -> Result<&'static str, AppError> {
    Ok("completion")
}

/// Search, its concurrency adapted to its latency; retried once.
#[retry(max_attempts = 2, backoff = fixed(10ms), jitter = none)]
#[adaptive_limit(name = "search", min_limit = 2, max_limit = 50, initial_limit = 10)]
pub async fn search() -> Result<&'static str, AppError> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    Ok("hits")
}

/// The service's routes, the admin router under `/admin` and `/metrics`. The
/// `/{dependency}/{ok|fail}` routes call each decorated function, so a demo (or a test)
/// can make things move.
pub fn app(token: Option<String>, metrics: PrometheusHandle) -> Router {
    Router::new()
        .nest(
            "/admin",
            router(AdminConfig {
                token,
                ..Default::default()
            }),
        )
        .route("/metrics", get(move || render_metrics(metrics.clone())))
        .route("/{dependency}/{how}", post(call))
}

async fn call(Path((dependency, how)): Path<(String, String)>) -> Response {
    let result = match dependency.as_str() {
        "kanban" => kanban(how == "fail").await,
        "uploads" => upload().await,
        "openai" => complete().await,
        "search" => search().await,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match result {
        Ok(body) => body.into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn render_metrics(handle: PrometheusHandle) -> impl IntoResponse {
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
}

/// The process's Prometheus recorder, installed on first use.
pub fn prometheus() -> Result<PrometheusHandle, BoxError> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .install_recorder()
                .map_err(|e| e.to_string())?;
            resilience::metrics::describe();
            Ok(handle)
        })
        .clone()
        .map_err(|e| format!("installing the Prometheus recorder: {e}").into())
}

/// Serves [`app`] on `addr` (a loopback address) until the task is dropped; the address
/// it bound.
pub async fn serve(addr: SocketAddr, token: Option<String>) -> Result<SocketAddr, BoxError> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = app(token, prometheus()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(bound)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let token = std::env::var("RESILIENCE_ADMIN_TOKEN").ok();
    if token.is_none() {
        println!("RESILIENCE_ADMIN_TOKEN is not set: the page's buttons will answer 403");
    }
    let addr = serve(([127, 0, 0, 1], 3000).into(), token).await?;
    println!("the operator's page: http://{addr}/admin (Ctrl-C to stop)");
    std::future::pending::<()>().await;
    Ok(())
}
