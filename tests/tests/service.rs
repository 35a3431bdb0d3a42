//! The service example, driven over real HTTP on loopback: the breaker opens after its
//! configured failures, the fallback answers while it is open, `/health` and `/metrics`
//! show it, and it closes again once the upstream is back. (Faults switched on over
//! HTTP, with the `chaos` feature: `service_chaos.rs`.)
//!
//! One test only: the breaker is global to the process, so two scenarios would share it.

mod service_common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use resilience::registry;
use serde_json::Value;
use service_common::service::{breaker_state, get, post, Reading, Source, BREAKER};
use service_common::{data, eventually, recovery_timeout, service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_the_fallback_answers_and_health_and_metrics_show_it() {
    let started = Instant::now();
    let service::Service { addr, upstream } = service::start().await.expect("started");

    // Healthy: a fresh value, and the breaker registered, closed.
    let first = data(addr).await;
    assert_eq!(first.source, Source::Upstream);
    assert_eq!(breaker_state(addr).await.unwrap(), "closed");
    let config = registry().breaker(BREAKER).unwrap().config();
    assert_eq!(config.failure_threshold, 4);
    // Open it for good while we look at it: nothing below depends on how fast we are.
    recovery_timeout(Duration::from_secs(60));

    // Failing: each request makes two calls (`max_attempts = 2`), each a failure, so the
    // second request opens the breaker; both are answered by the fallback.
    post(upstream.addr, "/admin/fail").await.unwrap();
    assert!(upstream.is_failing());
    assert_eq!(
        data(addr).await,
        Reading {
            value: first.value,
            source: Source::Fallback
        }
    );
    assert_eq!(breaker_state(addr).await.unwrap(), "closed");
    assert_eq!(data(addr).await.source, Source::Fallback);
    assert_eq!(breaker_state(addr).await.unwrap(), "open");
    assert_eq!(upstream.requests(), 1 + 4);

    // Open: refused without reaching the upstream, and still answered.
    assert_eq!(
        data(addr).await,
        Reading {
            value: first.value,
            source: Source::Fallback
        }
    );
    assert_eq!(
        upstream.requests(),
        1 + 4,
        "an open breaker let a call through"
    );

    // /health: the breaker's state and counts, and the monitor's view of the errors.
    let (status, body) = get(addr, "/health").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["breakers"]["open"], 1);
    let breaker = &health["breakers"]["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == BREAKER)
        .expect("the upstream breaker in /health")
        .clone();
    assert_eq!(breaker["state"], "open");
    assert_eq!(breaker["times_opened"], 1);
    assert_eq!(breaker["rejections"], 1);
    // The monitor recorded the four failures, and since the fallback answered every
    // call they are marked recovered and cost no health (docs/reliability.md, "Health"):
    // the callers saw no error.
    let failures: Vec<bool> = resilience::monitor()
        .history()
        .iter()
        .filter(|r| r.code == "UPSTREAM_ERROR_STATUS")
        .map(|r| r.recovered)
        .collect();
    assert_eq!(failures, [true; 4]);
    let errors = &health["errors"];
    assert_eq!(
        (
            errors["score"].as_u64(),
            errors["error_rate_per_minute"].as_f64(),
            errors["active_patterns"].as_u64()
        ),
        (Some(100), Some(0.0), Some(0)),
        "{errors}"
    );

    // /metrics: the breaker's state gauge and counters, and the fallback's counter.
    let (status, metrics) = get(addr, "/metrics").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let series = |prefix: &str| -> f64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` series in:\n{metrics}"));
        line.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    assert_eq!(
        series("resilience_breaker_state{breaker=\"upstream\"}"),
        1.0
    );
    assert_eq!(
        series("resilience_breaker_rejections_total{breaker=\"upstream\"}"),
        1.0
    );
    assert_eq!(
        series("resilience_breaker_failures_total{breaker=\"upstream\"}"),
        4.0
    );
    assert!(
        metrics.contains("read_value\",fallback=\"last_good\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("resilience_retries_total{function="),
        "{metrics}"
    );
    assert!(
        metrics.contains("resilience_errors_total{code=\"UPSTREAM_ERROR_STATUS\""),
        "{metrics}"
    );

    // Back: with a short recovery timeout, the next trial after it closes the breaker.
    post(upstream.addr, "/admin/recover").await.unwrap();
    recovery_timeout(Duration::from_millis(20));
    let fresh = eventually(Duration::from_secs(2), "a fresh reading", || async {
        let reading = data(addr).await;
        (reading.source == Source::Upstream).then_some(reading)
    })
    .await;
    assert!(fresh.value > first.value);
    assert_eq!(breaker_state(addr).await.unwrap(), "closed");

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}
