//! A reqwest client with `resilience::reqwest::ResilienceMiddleware`, against a flaky
//! server on loopback: `cargo run -p resilience-tests --example reqwest_client --features reqwest`.
//!
//! The server answers `503` twice, then `429` with `Retry-After: 1`, then `200`: the
//! middleware retries each (a `GET` is idempotent), waits the second the server asked
//! for, and the tracing events (printed) say each decision. A `POST` to the same server
//! is sent once, never retried.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{routing, Router};
use reqwest_middleware::ClientBuilder;
use resilience::reqwest::ResilienceMiddleware;
use resilience::retry::{Backoff, Jitter};
use resilience::RetryConfig;
use tokio::net::TcpListener;

async fn flaky(State(hits): State<Arc<AtomicU32>>) -> Response {
    match hits.fetch_add(1, Ordering::SeqCst) {
        0 | 1 => (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response(),
        2 => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response(),
        _ => "the board".into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt().with_target(true).init();

    let hits = Arc::new(AtomicU32::new(0));
    let router = Router::new()
        .route("/board", routing::get(flaky).post(flaky))
        .with_state(hits.clone());
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });

    let middleware = ResilienceMiddleware::new()
        .name("kanban")
        .retry(RetryConfig {
            max_attempts: 5,
            backoff: Backoff::Fixed(Duration::from_millis(50)),
            jitter: Jitter::None,
            ..Default::default()
        })?;
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build();

    let start = Instant::now();
    let response = client.get(format!("http://{addr}/board")).send().await?;
    println!(
        "GET  -> {} {:?} after {} requests, {:.2?}",
        response.status(),
        response.text().await?,
        hits.load(Ordering::SeqCst),
        start.elapsed()
    );

    hits.store(0, Ordering::SeqCst);
    let response = client
        .post(format!("http://{addr}/board"))
        .body("new card")
        .send()
        .await?;
    println!(
        "POST -> {} after {} request (not retried)",
        response.status(),
        hits.load(Ordering::SeqCst)
    );
    Ok(())
}
