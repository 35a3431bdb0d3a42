//! Faults (feature `chaos`) named as the reqwest middleware's breakers apply to its
//! requests, against a real server on loopback (`cargo test -p resilience-tests
//! --features reqwest,chaos --test chaos_reqwest`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::{routing, Router};
use reqwest_middleware::ClientBuilder;
use resilience::chaos::{chaos, Fault, FaultKind};
use resilience::reqwest::ResilienceMiddleware;
use resilience::retry::{Backoff, Jitter};
use resilience::{registry, BreakerConfig, BreakerState, CircuitOpen, InjectedFault, RetryConfig};
use tokio::net::TcpListener;

async fn upstream() -> (SocketAddr, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    async fn ok(State(hits): State<Arc<AtomicU32>>) -> &'static str {
        hits.fetch_add(1, Ordering::SeqCst);
        "ok"
    }
    let router = Router::new()
        .route("/", routing::get(ok))
        .with_state(hits.clone());
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, hits)
}

fn middleware(name: &str, max_attempts: u32) -> ResilienceMiddleware {
    ResilienceMiddleware::new()
        .name(name)
        .breaker(BreakerConfig {
            failure_threshold: 3,
            recovery_timeout: Duration::from_secs(60),
            // A counting window, so that every call counted shows in the snapshot.
            failure_rate: Some(90.0),
            ..Default::default()
        })
        .unwrap()
        .retry(RetryConfig {
            max_attempts,
            backoff: Backoff::Fixed(Duration::from_millis(1)),
            jitter: Jitter::None,
            ..Default::default()
        })
        .unwrap()
}

fn fault_counts(site: &str, kind: FaultKind) -> (u64, u64) {
    let snapshot = chaos().snapshot();
    let fault = snapshot
        .faults
        .iter()
        .find(|f| f.site == site && f.fault == kind)
        .expect("the fault is set");
    (fault.calls, fault.injected)
}

#[tokio::test]
async fn a_refusal_named_as_the_middlewares_breakers_refuses_every_request() {
    let (addr, hits) = upstream().await;
    let name = "chaos.reqwest.refusal";
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(middleware(name, 1))
        .build();
    let url = format!("http://{addr}/");
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);

    chaos().inject(name, Fault::refusal(1.0)).unwrap();
    for _ in 0..40 {
        let error = client.get(&url).send().await.unwrap_err();
        let reqwest_middleware::Error::Middleware(error) = error else {
            panic!("a middleware error");
        };
        assert_eq!(error.downcast_ref::<CircuitOpen>().unwrap().name, name);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "no refused request reached the server"
    );
    assert_eq!(fault_counts(name, FaultKind::Refusal), (40, 40));
    let key = format!("127.0.0.1:{}", addr.port());
    let breaker = registry().breaker_for(name, &key).unwrap().snapshot();
    assert_eq!(breaker.state, BreakerState::Closed);
    assert_eq!(
        (breaker.window_calls, breaker.rejections),
        (1, 0),
        "an injected refusal is neither a call nor a rejection of the breaker"
    );

    chaos().clear(name);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn an_injected_error_is_a_transient_failure_of_the_host_retried_and_counted() {
    let (addr, hits) = upstream().await;
    let name = "chaos.reqwest.error";
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(middleware(name, 3))
        .build();
    let url = format!("http://{addr}/");
    chaos().inject(name, Fault::error(1.0)).unwrap();
    let error = client.get(&url).send().await.unwrap_err();
    let reqwest_middleware::Error::Middleware(error) = error else {
        panic!("a middleware error");
    };
    assert_eq!(error.downcast_ref::<InjectedFault>().unwrap().site(), name);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // Three attempts, each an injected failure of the host: its breaker opened.
    assert_eq!(fault_counts(name, FaultKind::Error), (3, 3));
    let key = format!("127.0.0.1:{}", addr.port());
    assert_eq!(
        registry().breaker_for(name, &key).unwrap().state(),
        BreakerState::Open
    );
    chaos().clear(name);
}
