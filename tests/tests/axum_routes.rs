//! The refusals answering HTTP (feature `axum`) on a real server on 127.0.0.1: the
//! example's routes, each behind one of the crate's tower layers with the usual
//! `HandleErrorLayer` recipe, walked into their refusals by a real client.

// The example's `main` is dead code here.
#[allow(dead_code)]
#[path = "../../examples/axum_routes.rs"]
mod example;

use std::time::Duration;

use axum::http::StatusCode;
use example::{get_path, Answer};
use resilience::breaker::WindowKind;
use resilience::{registry, BreakerState};

async fn get(addr: std::net::SocketAddr, path: &str) -> Answer {
    get_path(addr, path).await.expect("the server answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_answers_its_status_and_retry_after() {
    let example::Running { addr, handles } = example::start().await.expect("started");

    // /orders: the breaker's keys reached it through the layer's configuration.
    let answer = get(addr, "/orders").await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "3 orders")
    );
    let breaker = registry().breaker(example::ORDERS).expect("registered");
    assert_eq!(breaker.config(), example::orders_breaker());
    assert_eq!(breaker.snapshot().window_kind, Some(WindowKind::Time));

    // 500s (failures by `failure_if`) until 3 of 4 calls in the window failed.
    handles.set_failing(true);
    for _ in 0..3 {
        let answer = get(addr, "/orders").await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    let refused = get(addr, "/orders").await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.body.contains("is open"), "{}", refused.body);
    let wait = refused.retry_after().expect("Retry-After");
    assert!((1..=30).contains(&wait), "the open period is 30 s: {wait}");

    // A failed trial: the next open period is twice as long, and Retry-After says so.
    breaker.transition_to_half_open();
    let trial = get(addr, "/orders").await;
    assert_eq!(trial.status, StatusCode::INTERNAL_SERVER_ERROR);
    let refused = get(addr, "/orders").await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    let wait = refused.retry_after().expect("Retry-After");
    assert!((31..=60).contains(&wait), "the open period is 60 s: {wait}");
    assert_eq!(breaker.snapshot().open_period, Duration::from_secs(60));

    // A trial that succeeds closes it, and the period starts again at 30 s.
    handles.set_failing(false);
    breaker.transition_to_half_open();
    assert_eq!(get(addr, "/orders").await.status, StatusCode::OK);
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.snapshot().open_period, Duration::from_secs(30));

    // /search: one call a minute, then 429 with the wait.
    assert_eq!(get(addr, "/search").await.status, StatusCode::OK);
    let limited = get(addr, "/search").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = limited.retry_after().expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");

    // /report: one at a time, no waiting: a second call while the first runs is a 503
    // without Retry-After (a bulkhead cannot say when a place frees).
    let first = tokio::spawn(get_path(addr, "/report"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while registry()
        .bulkhead(example::REPORT)
        .is_none_or(|b| b.in_flight() == 0)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first /report never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let full = get(addr, "/report").await;
    assert_eq!(full.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(full.body.contains("is full"), "{}", full.body);
    assert_eq!(full.retry_after(), None);
    handles.finish_report();
    let first = first.await.expect("joined").expect("answered");
    assert_eq!(
        (first.status, first.body.as_str()),
        (StatusCode::OK, "report")
    );

    // /slow: cut off by the timeout layer, a 504.
    let slow = get(addr, "/slow").await;
    assert_eq!(slow.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(slow.body.contains("timed out"), "{}", slow.body);
    assert_eq!(slow.retry_after(), None);
}
