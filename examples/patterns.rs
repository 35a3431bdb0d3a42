//! `#[bulkhead]`, `#[rate_limit]` and `key = expr`: at most so many calls at once, at
//! most so many per second, one breaker per host; inspected and reconfigured through the
//! registry.
//!
//! Run it with `cargo run --example patterns`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::{
    bulkhead, circuit_breaker, rate_limit, registry, retry, BulkheadFull, CircuitOpen, MarcusError,
    RateLimitConfig, RateLimited,
};

#[derive(Debug, thiserror::Error, MarcusError)]
enum UpstreamError {
    #[error("upstream failed")]
    #[marcus(category = integration, retryable = false)]
    Failed,
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

static RUNNING: AtomicU32 = AtomicU32::new(0);
static PEAK: AtomicU32 = AtomicU32::new(0);

/// At most 3 reports run at once; the others wait up to a second for a place.
#[bulkhead(name = "reports", max_concurrent = 3, max_wait = 1s)]
async fn render_report(id: u32) -> Result<u32, UpstreamError> {
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    PEAK.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    Ok(id)
}

/// The upstream's quota: 5 calls per 100 ms, bursts of 2. The retry, outside, waits
/// exactly the `retry_after` a refusal carries.
#[retry(max_attempts = 10, backoff = none)]
#[rate_limit(name = "quota", limit = 5, per = 100ms, burst = 2)]
async fn quoted_call(n: u32) -> Result<u32, UpstreamError> {
    Ok(n)
}

/// One breaker per host: a failing host does not open the others' breakers.
#[circuit_breaker(name = "hosts", key = host, failure_threshold = 2, max_keys = 100)]
fn call_host(host: &str) -> Result<&'static str, UpstreamError> {
    if host == "down.example" {
        Err(UpstreamError::Failed)
    } else {
        Ok("ok")
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tasks: Vec<_> = (0..12).map(|i| tokio::spawn(render_report(i))).collect();
    for t in tasks {
        t.await??;
    }
    println!(
        "12 reports rendered, at most {} at once",
        PEAK.load(Ordering::SeqCst)
    );

    let start = tokio::time::Instant::now();
    for n in 0..6 {
        quoted_call(n).await?;
    }
    println!(
        "6 quoted calls in {:?} (2 at once, then one per 20 ms)",
        start.elapsed()
    );

    for _ in 0..3 {
        let _ = call_host("down.example");
    }
    println!(
        "down.example: {:?}",
        call_host("down.example").map_err(|e| e.to_string())
    );
    println!("up.example:   {:?}", call_host("up.example")?);
    let down = registry()
        .breaker_for("hosts", "down.example")
        .expect("live");
    println!("breaker for down.example is {:?}", down.state());

    registry().configure_rate_limit(
        "quota",
        RateLimitConfig {
            limit: 50,
            per: Duration::from_millis(100),
            ..Default::default()
        },
    )?;
    let health = registry().health();
    println!("{}", serde_json::to_string_pretty(&health.rate_limiters)?);
    println!("{}", serde_json::to_string_pretty(&health.bulkheads)?);
    Ok(())
}
