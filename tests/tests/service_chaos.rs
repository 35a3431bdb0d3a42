//! The service example with the `chaos` feature: faults switched on over HTTP reach its
//! breaker and its read, `/health` and `/metrics` show them, and clearing them gives the
//! upstream back (`cargo test -p resilience-tests --features chaos --test service_chaos`).
//!
//! One test only: the breaker and the fault table are global to the process.

mod service_common;

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;
use service_common::service::{breaker_state, get, post, Reading, Source};
use service_common::{data, eventually, recovery_timeout, service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_set_over_http_reach_the_breaker_and_the_read_and_show_in_health_and_metrics() {
    let service::Service { addr, upstream } = service::start().await.expect("started");
    let first = data(addr).await;
    assert_eq!(first.source, Source::Upstream);

    // Chaos, switched on over HTTP. A refusal named as the breaker: refused as if open,
    // answered by the fallback, without reaching the upstream or opening the breaker.
    recovery_timeout(Duration::from_secs(60));
    let (status, _) = post(addr, "/chaos/upstream/refusal/1.0").await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let requests = upstream.requests();
    assert_eq!(
        data(addr).await,
        Reading {
            value: first.value,
            source: Source::Fallback
        }
    );
    assert_eq!(upstream.requests(), requests);
    assert_eq!(breaker_state(addr).await.unwrap(), "closed");
    let (status, _) = post(addr, "/chaos/clear").await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(data(addr).await.source, Source::Upstream);

    // Errors named as the function: retried (transient), counted by the breaker, which
    // opens on the second request; the fallback answers; the upstream is never called.
    let requests = upstream.requests();
    let error = format!("/chaos/{}/error/1.0", service::read_value_site());
    let (status, body) = post(addr, &error).await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(data(addr).await.source, Source::Fallback);
    assert_eq!(breaker_state(addr).await.unwrap(), "closed");
    assert_eq!(data(addr).await.source, Source::Fallback);
    assert_eq!(breaker_state(addr).await.unwrap(), "open");
    assert_eq!(upstream.requests(), requests);
    let (_, body) = get(addr, "/health").await.unwrap();
    let health: Value = serde_json::from_str(&body).unwrap();
    let fault = &health["breakers"]["chaos"]["faults"][0];
    assert_eq!(
        (&fault["fault"], &fault["injected"]),
        (&Value::from("error"), &Value::from(4))
    );
    let (_, metrics) = get(addr, "/metrics").await.unwrap();
    let series = format!(
        "resilience_chaos_injected_total{{site=\"{}\",fault=\"error\"}} 4",
        service::read_value_site()
    );
    assert!(metrics.contains(&series), "{metrics}");
    assert!(
        metrics.contains("resilience_errors_total{code=\"INJECTED_FAULT\""),
        "{metrics}"
    );
    // A bad rate is refused with its reason.
    let (status, body) = post(addr, "/chaos/upstream/error/2").await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("rate"), "{body}");
    post(addr, "/chaos/clear").await.unwrap();
    post(upstream.addr, "/admin/recover").await.unwrap();
    recovery_timeout(Duration::from_millis(20));
    eventually(
        Duration::from_secs(2),
        "a fresh reading after chaos",
        || async { (data(addr).await.source == Source::Upstream).then_some(()) },
    )
    .await;
}
