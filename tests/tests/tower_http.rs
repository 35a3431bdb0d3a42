//! The tower layers (feature `tower`) as a user wires them: the axum example over real
//! HTTP on loopback, a layer and an attribute sharing one breaker, and a `Buffer` in
//! front of the breaker layer surviving an open period.

// The example's `main` is dead code here.
#[allow(dead_code)]
#[path = "../../examples/tower_service.rs"]
mod tower_service;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use resilience::tower::CircuitBreakerLayer;
use resilience::{circuit_breaker, registry, BreakerConfig, BreakerState, CircuitOpen};
use tower::buffer::Buffer;
use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_breaker_opens_on_a_failing_upstream_and_closes_after_it_recovers() {
    let started = Instant::now();
    let tower_service::Service { addr, flaky } = tower_service::start().await.expect("started");

    let (status, body) = tower_service::get_data(addr).await.unwrap();
    assert_eq!((status, body.as_str()), (StatusCode::OK, "value 1"));

    // Three 503s (each a failure by `failure_if`, none retried: an answer is not an
    // error) open the breaker.
    flaky.set_failing(true);
    for _ in 0..3 {
        let (status, _) = tower_service::get_data(addr).await.unwrap();
        assert_eq!(status, StatusCode::BAD_GATEWAY);
    }
    assert_eq!(
        registry().breaker(tower_service::BREAKER).unwrap().state(),
        BreakerState::Open
    );
    assert_eq!(flaky.requests(), 4);

    // Open: refused without reaching the upstream, and the fallback answers the last
    // good value.
    for _ in 0..3 {
        let (status, body) = tower_service::get_data(addr).await.unwrap();
        assert_eq!((status, body.as_str()), (StatusCode::OK, "value 1"));
    }
    assert_eq!(flaky.requests(), 4);

    // Mended: after the recovery timeout (200 ms) a trial goes through and closes it.
    flaky.set_failing(false);
    let deadline = Instant::now() + Duration::from_secs(5);
    let fresh = loop {
        let (status, body) = tower_service::get_data(addr).await.unwrap();
        assert_eq!(status, StatusCode::OK);
        if body != "value 1" {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "the breaker never let a trial through"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(fresh, "value 5");
    assert_eq!(
        registry().breaker(tower_service::BREAKER).unwrap().state(),
        BreakerState::Closed
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[derive(Debug, thiserror::Error)]
enum SharedError {
    #[error("down")]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

#[circuit_breaker(name = "tests.tower.shared", failure_threshold = 2)]
fn attribute_call(fail: bool) -> Result<(), SharedError> {
    if fail {
        Err(SharedError::Down)
    } else {
        Ok(())
    }
}

#[tokio::test]
async fn a_layer_and_an_attribute_with_one_name_share_one_breaker() {
    // The attribute registers the breaker first, so its configuration (2 failures) stays.
    attribute_call(false).unwrap();
    let svc =
        CircuitBreakerLayer::new("tests.tower.shared").layer(service_fn(|fail: bool| async move {
            if fail {
                Err::<(), BoxError>("down".into())
            } else {
                Ok(())
            }
        }));
    let registered = registry().breaker("tests.tower.shared").unwrap();
    assert!(std::ptr::eq(svc.breaker(), Arc::as_ptr(&registered)));

    // Opened by the attribute: the layer refuses.
    attribute_call(true).unwrap_err();
    attribute_call(true).unwrap_err();
    let refused = svc.clone().oneshot(false).await.unwrap_err();
    assert_eq!(
        refused.downcast_ref::<CircuitOpen>().unwrap().name,
        "tests.tower.shared"
    );

    // Opened by the layer: the attribute refuses.
    registered.reset();
    svc.clone().oneshot(true).await.unwrap_err();
    svc.clone().oneshot(true).await.unwrap_err();
    assert!(matches!(attribute_call(false), Err(SharedError::Open(_))));
    assert_eq!(registered.snapshot().state, BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_buffer_over_the_breaker_layer_still_works_after_an_open_period() {
    let inner = CircuitBreakerLayer::new("tests.tower.buffer")
        .config(BreakerConfig {
            failure_threshold: 2,
            success_threshold: 1,
            recovery_timeout: Duration::from_secs(30),
            ..Default::default()
        })
        .layer(service_fn(|fail: bool| async move {
            if fail {
                Err::<&str, BoxError>("down".into())
            } else {
                Ok("fine")
            }
        }));
    let mut svc = Buffer::new(inner, 8);
    for _ in 0..2 {
        svc.ready().await.unwrap().call(true).await.unwrap_err();
    }
    // Open: every call is refused from `call`, the buffer's worker stays up.
    for _ in 0..5 {
        let ready = svc.ready().await;
        assert!(ready.is_ok(), "poll_ready failed while the breaker is open");
        let err = ready.unwrap().call(false).await.unwrap_err();
        assert!(err.is::<CircuitOpen>(), "{err}");
    }
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(
        svc.ready().await.unwrap().call(false).await.unwrap(),
        "fine"
    );
    assert_eq!(
        registry().breaker("tests.tower.buffer").unwrap().state(),
        BreakerState::Closed
    );
    assert_eq!(
        svc.ready().await.unwrap().call(false).await.unwrap(),
        "fine"
    );
}
