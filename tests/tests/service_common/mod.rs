//! What the tests of the service example share: the example itself (its `main` and the
//! helpers it alone uses are dead code here) and the polls and reads both scenarios make.

#[allow(dead_code)]
#[path = "../../../examples/service.rs"]
pub mod service;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use resilience::{registry, BreakerConfig};
use service::{get, Reading, BREAKER};

/// Polls `check` every 10 ms until it yields `Some`, or fails after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn data(addr: std::net::SocketAddr) -> Reading {
    let (status, body) = get(addr, "/data").await.expect("GET /data");
    assert_eq!(status, StatusCode::OK, "/data answered {body}");
    serde_json::from_str(&body).expect("a reading")
}

/// Sets the breaker's recovery timeout through the registry, keeping the example's
/// other values.
pub fn recovery_timeout(timeout: Duration) {
    let current = registry()
        .breaker(BREAKER)
        .expect("registered by the first call")
        .config();
    let config = BreakerConfig {
        recovery_timeout: timeout,
        ..current
    };
    registry()
        .configure(BREAKER, config)
        .expect("a valid configuration");
}
