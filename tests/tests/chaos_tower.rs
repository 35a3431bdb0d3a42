//! Faults (feature `chaos`) named as a tower layer's breaker, bulkhead, rate limiter or
//! hedge apply there, on calls to a real HTTP server on loopback through a hyper
//! client wrapped in the layers (`cargo test -p resilience-tests --features tower,chaos
//! --test chaos_tower`). Each test names its own sites, so they share the global fault
//! table without meeting.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::State;
use axum::{routing, Router};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use resilience::chaos::{chaos, Fault, FaultKind};
use resilience::registry::Registry;
use resilience::tower::{BulkheadLayer, CircuitBreakerLayer, HedgeLayer, RateLimitLayer};
use resilience::{
    registry, BreakerConfig, BreakerState, BulkheadFull, CircuitOpen, InjectedFault,
    RateLimitConfig, RateLimited,
};
use tokio::net::TcpListener;
use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

/// An upstream on loopback answering `200 ok` to every request, and its count.
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

/// A GET of the upstream as a tower service answering its status.
fn get(
    addr: SocketAddr,
) -> impl Service<(), Response = u16, Error = BoxError, Future = impl Send> + Clone {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    service_fn(move |()| {
        let client = client.clone();
        async move {
            let uri = format!("http://{addr}/").parse()?;
            let response = client.get(uri).await?;
            Ok::<_, BoxError>(response.status().as_u16())
        }
    })
}

/// The snapshot of the fault of `kind` on `site` in `table`: (calls, injected).
fn counts(table: &resilience::chaos::Chaos, site: &str, kind: FaultKind) -> (u64, u64) {
    let snapshot = table.snapshot();
    let fault = snapshot
        .faults
        .iter()
        .find(|f| f.site == site && f.fault == kind)
        .expect("the fault is set");
    (fault.calls, fault.injected)
}

#[tokio::test]
async fn a_refusal_named_as_a_breaker_layers_breaker_refuses_without_counting() {
    let (addr, hits) = upstream().await;
    let name = "chaos.tower.breaker.refusal";
    // A counting window, so that every call counted shows in the snapshot.
    let svc = CircuitBreakerLayer::new(name)
        .config(BreakerConfig {
            failure_rate: Some(50.0),
            ..Default::default()
        })
        .layer(get(addr));
    assert_eq!(svc.clone().oneshot(()).await.unwrap(), 200);
    assert_eq!(registry().breaker(name).unwrap().snapshot().window_calls, 1);

    chaos().inject(name, Fault::refusal(1.0)).unwrap();
    for _ in 0..40 {
        let refused = svc.clone().oneshot(()).await.unwrap_err();
        assert_eq!(refused.downcast_ref::<CircuitOpen>().unwrap().name, name);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "no refused call reached the upstream"
    );
    let breaker = registry().breaker(name).unwrap().snapshot();
    assert_eq!(breaker.state, BreakerState::Closed);
    assert_eq!(
        (breaker.window_calls, breaker.rejections),
        (1, 0),
        "an injected refusal is neither a call nor a rejection of the breaker"
    );
    assert_eq!(counts(chaos(), name, FaultKind::Refusal), (40, 40));

    chaos().clear(name);
    assert_eq!(svc.oneshot(()).await.unwrap(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_error_named_as_a_breaker_layers_breaker_counts_against_it_and_opens_it() {
    let (addr, hits) = upstream().await;
    let name = "chaos.tower.breaker.error";
    let svc = CircuitBreakerLayer::new(name)
        .config(BreakerConfig {
            failure_threshold: 3,
            recovery_timeout: Duration::from_secs(60),
            ..Default::default()
        })
        .layer(get(addr));
    chaos().inject(name, Fault::error(1.0)).unwrap();
    for _ in 0..3 {
        let failed = svc.clone().oneshot(()).await.unwrap_err();
        assert_eq!(failed.downcast_ref::<InjectedFault>().unwrap().site(), name);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "an injected error calls nothing"
    );
    assert_eq!(
        registry().breaker(name).unwrap().state(),
        BreakerState::Open
    );
    // Open: refused by the breaker itself, before any fault is drawn.
    let refused = svc.oneshot(()).await.unwrap_err();
    assert!(refused.is::<CircuitOpen>());
    assert_eq!(counts(chaos(), name, FaultKind::Error), (3, 3));
    chaos().clear(name);
}

#[tokio::test]
async fn a_refusal_named_as_a_bulkhead_layer_returns_bulkhead_full() {
    let (addr, hits) = upstream().await;
    let name = "chaos.tower.bulkhead";
    let svc = BulkheadLayer::new(name).layer(get(addr));
    chaos().inject(name, Fault::refusal(1.0)).unwrap();
    for _ in 0..10 {
        let refused = svc.clone().oneshot(()).await.unwrap_err();
        let full = refused
            .downcast_ref::<BulkheadFull>()
            .expect("a BulkheadFull");
        assert_eq!((full.name, full.waited), (name, Duration::ZERO));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert_eq!(registry().bulkhead(name).unwrap().in_flight(), 0);
    chaos().clear(name);
    assert_eq!(svc.oneshot(()).await.unwrap(), 200);
}

#[tokio::test]
async fn a_refusal_named_as_a_rate_limit_layer_returns_rate_limited() {
    let (addr, hits) = upstream().await;
    let name = "chaos.tower.rate_limit";
    let svc = RateLimitLayer::new(name)
        .config(RateLimitConfig {
            limit: 1_000,
            per: Duration::from_secs(1),
            ..Default::default()
        })
        .layer(get(addr));
    chaos().inject(name, Fault::refusal(0.5)).unwrap();
    chaos().seed(11);
    let mut refused = 0u64;
    for _ in 0..40u64 {
        match svc.clone().oneshot(()).await {
            Ok(status) => assert_eq!(status, 200),
            Err(error) => {
                let limited = error.downcast_ref::<RateLimited>().expect("a RateLimited");
                assert_eq!(limited.name, name);
                assert_eq!(limited.retry_after, Duration::from_millis(1));
                refused += 1;
            }
        }
    }
    assert_eq!(u64::from(hits.load(Ordering::SeqCst)), 40 - refused);
    assert_eq!(counts(chaos(), name, FaultKind::Refusal), (40, refused));
    assert!(
        (10..=30).contains(&refused),
        "{refused} of 40 refused at rate 0.5"
    );
    chaos().clear(name);
}

static OWN: LazyLock<Registry> = LazyLock::new(Registry::new);

#[tokio::test]
async fn an_error_named_as_a_hedge_layer_fails_each_run_in_its_own_registry() {
    let (addr, hits) = upstream().await;
    let name = "chaos.tower.hedge";
    let svc = HedgeLayer::new(Duration::from_millis(10))
        .name(name)
        .registry(&OWN)
        .layer(get(addr));
    // Set in the global table only: this layer's registry has none.
    chaos().inject(name, Fault::error(1.0)).unwrap();
    assert_eq!(svc.clone().oneshot(()).await.unwrap(), 200);
    chaos().clear(name);

    OWN.chaos().inject(name, Fault::error(1.0)).unwrap();
    let failed = svc.clone().oneshot(()).await.unwrap_err();
    assert!(failed.is::<InjectedFault>(), "{failed}");
    // Retryable: the first run's error started the hedge at once, which failed too.
    assert_eq!(counts(OWN.chaos(), name, FaultKind::Error), (2, 2));
    assert_eq!(OWN.hedge(name).unwrap().snapshot().hedges_started, 1);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "only the call before the fault"
    );
    OWN.chaos().clear(name);
    assert_eq!(svc.oneshot(()).await.unwrap(), 200);
}

#[tokio::test(start_paused = true)]
async fn latency_named_as_a_layer_delays_the_inner_call_on_paused_time() {
    let name = "chaos.tower.latency";
    let started = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = started.clone();
    let svc = CircuitBreakerLayer::new(name).layer(service_fn(move |()| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(tokio::time::Instant::now());
            Ok::<_, BoxError>(())
        }
    }));
    chaos()
        .inject(name, Fault::latency(1.0, Duration::from_millis(250)))
        .unwrap();
    let start = tokio::time::Instant::now();
    svc.oneshot(()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    assert_eq!(
        started.lock().unwrap().as_slice(),
        [start + Duration::from_millis(250)],
        "the inner call runs (is first polled) once the latency is over"
    );
    chaos().clear(name);
}

#[derive(Debug, thiserror::Error)]
enum Typed {
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

// A breaker layer's error says what it means to the breaker (the engine's one
// classification); this one is no `MarcusError` and has no room for an injected fault.
impl resilience::classification::Classify for Typed {
    fn verdict(&self) -> resilience::classification::Verdict {
        match self {
            Typed::Open(open) => open.verdict(),
        }
    }
}

#[tokio::test]
async fn an_error_fault_on_a_layer_whose_error_cannot_hold_it_is_refused_with_the_reason() {
    let name = "chaos.tower.typed";
    let svc = CircuitBreakerLayer::new(name).layer(service_fn(|()| async { Ok::<_, Typed>(()) }));
    chaos().inject(name, Fault::error(1.0)).unwrap();
    svc.clone().oneshot(()).await.unwrap();
    let snapshot = chaos().snapshot();
    let fault = snapshot.faults.iter().find(|f| f.site == name).unwrap();
    assert_eq!(fault.injected, 0);
    assert!(
        fault
            .refused
            .as_deref()
            .is_some_and(|why| why.contains("tower::BoxError")),
        "{fault:?}"
    );
    // Known now: a new error fault there is refused at once.
    chaos().clear(name);
    let err = chaos().inject(name, Fault::error(0.5)).unwrap_err();
    assert!(err.to_string().contains("tower::BoxError"), "{err}");
}
