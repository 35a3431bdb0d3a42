//! Nested retries and deadlines across front ends (issue 30, API.md section 13): a
//! `#[retry]` over a `RetryLayer` and over the reqwest middleware (against a real server
//! on 127.0.0.1) makes the outer retry's attempts only, unless the inner one says
//! `Nested::Independent`; a `TimeoutLayer`'s deadline reaches a `RetryLayer` inside it,
//! and the middleware gives a request no longer timeout than what is left. Features
//! `tower` and `reqwest`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience::reqwest::ResilienceMiddleware;
use resilience::retry::{Backoff, Jitter, Nested};
use resilience::tower::{RetryLayer, TimeoutLayer};
use resilience::{errors, retry, timeout, BreakerConfig, MarcusError, RetryConfig, TimedOut};
use tower::{service_fn, BoxError, Layer, ServiceExt};

#[derive(Debug, thiserror::Error, MarcusError)]
enum CallError {
    #[error("the upstream is unavailable")]
    #[marcus(category = transient)]
    Unavailable,
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
}

fn attempts(n: u32) -> RetryConfig {
    RetryConfig {
        max_attempts: n,
        backoff: Backoff::None,
        ..Default::default()
    }
}

// --- #[retry] over a RetryLayer ---------------------------------------------------------

/// Three attempts of a `RetryLayer` (deferring or not) over a service that always fails.
async fn through_layer(nested: Nested, calls: Arc<AtomicU32>) -> Result<(), CallError> {
    let inner = service_fn(move |()| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), BoxError>(Box::new(errors::ServiceUnavailable::new("down"))) }
    });
    let svc = RetryLayer::new(attempts(3))
        .name("nested_layers.layer")
        .nested(nested)
        .layer(inner);
    svc.oneshot(()).await.map_err(|_| CallError::Unavailable)
}

#[retry(max_attempts = 3, backoff = none)]
async fn attribute_over_layer(nested: Nested, calls: Arc<AtomicU32>) -> Result<(), CallError> {
    through_layer(nested, calls.clone()).await
}

#[tokio::test(start_paused = true)]
async fn a_retry_over_a_retry_layer_makes_the_outer_attempts_only() {
    let calls = Arc::new(AtomicU32::new(0));
    attribute_over_layer(Nested::Defer, calls.clone())
        .await
        .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let calls = Arc::new(AtomicU32::new(0));
    attribute_over_layer(Nested::Independent, calls.clone())
        .await
        .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 9);

    // Alone, the layer retries.
    let calls = Arc::new(AtomicU32::new(0));
    through_layer(Nested::Defer, calls.clone())
        .await
        .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn a_retry_layer_over_a_retry_layer_makes_the_outer_attempts_only() {
    for (nested, expected) in [(Nested::Defer, 3), (Nested::Independent, 9)] {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let inner = service_fn(move |()| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), BoxError>(Box::new(errors::ServiceUnavailable::new("down"))) }
        });
        let svc = RetryLayer::new(attempts(3))
            .name("nested_layers.outer")
            .layer(
                RetryLayer::new(attempts(3))
                    .name("nested_layers.inner")
                    .nested(nested)
                    .layer(inner),
            );
        svc.oneshot(()).await.unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), expected, "{nested:?}");
    }
}

// --- A TimeoutLayer's deadline --------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_retry_layer_under_a_timeout_layer_returns_its_own_error_before_the_deadline() {
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let inner = service_fn(move |()| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), BoxError>(Box::new(errors::ServiceUnavailable::new("down"))) }
    });
    let config = RetryConfig {
        max_attempts: 10,
        backoff: Backoff::Fixed(Duration::from_millis(300)),
        jitter: Jitter::None,
        ..Default::default()
    };
    let svc = TimeoutLayer::new(Duration::from_secs(1)).layer(
        RetryLayer::new(config)
            .name("nested_layers.deadline")
            .layer(inner),
    );
    let start = tokio::time::Instant::now();
    let err = svc.oneshot(()).await.unwrap_err();
    assert!(err.downcast_ref::<TimedOut>().is_none(), "{err}");
    assert!(
        err.downcast_ref::<errors::ServiceUnavailable>().is_some(),
        "{err}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(start.elapsed(), Duration::from_millis(900));
}

// --- #[retry] over the reqwest middleware ---------------------------------------------

/// A server on 127.0.0.1, on a thread and runtime of its own, answering `503` to every
/// `GET /` (counted in `hits`), and `200` to `GET /slow` after `slow`.
fn http_server(hits: Arc<AtomicU32>) -> std::net::SocketAddr {
    use axum::http::StatusCode;
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let unavailable = move || {
                hits.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::SERVICE_UNAVAILABLE }
            };
            let router = axum::Router::new()
                .route("/", axum::routing::get(unavailable))
                .route("/ok", axum::routing::get(|| async { StatusCode::OK }));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    addr
}

fn client(name: &str, nested: Nested) -> reqwest_middleware::ClientWithMiddleware {
    let middleware = ResilienceMiddleware::new()
        .name(name)
        .nested(nested)
        .retry(attempts(3))
        .unwrap()
        // The host's breaker stays closed through the test's nine failures.
        .breaker(BreakerConfig {
            failure_threshold: 1000,
            ..Default::default()
        })
        .unwrap();
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build()
}

#[retry(max_attempts = 3, backoff = none)]
async fn attribute_over_middleware(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: &str,
) -> Result<(), CallError> {
    let res = client
        .get(url)
        .send()
        .await
        .map_err(|_| CallError::Unavailable)?;
    if res.status().is_server_error() {
        return Err(CallError::Unavailable);
    }
    Ok(())
}

#[tokio::test]
async fn a_retry_over_the_middleware_makes_the_outer_attempts_only() {
    let hits = Arc::new(AtomicU32::new(0));
    let addr = http_server(hits.clone());
    let url = format!("http://{addr}/");

    let deferring = client("nested_layers.defer", Nested::Defer);
    attribute_over_middleware(&deferring, &url)
        .await
        .unwrap_err();
    assert_eq!(hits.swap(0, Ordering::SeqCst), 3);

    let independent = client("nested_layers.independent", Nested::Independent);
    attribute_over_middleware(&independent, &url)
        .await
        .unwrap_err();
    assert_eq!(hits.swap(0, Ordering::SeqCst), 9);

    // Alone, the middleware retries.
    let res = deferring.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

/// Notes the timeout of each request the resilience middleware lets through.
struct SeenTimeouts(Arc<Mutex<Vec<Option<Duration>>>>);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for SeenTimeouts {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut axum::http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.0.lock().unwrap().push(req.timeout().copied());
        next.run(req, extensions).await
    }
}

#[timeout(2s)]
async fn get_within_two_seconds(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: &str,
    own: Duration,
) -> Result<(), CallError> {
    client
        .get(url)
        .timeout(own)
        .send()
        .await
        .map_err(|_| CallError::Unavailable)?;
    Ok(())
}

#[tokio::test]
async fn the_middleware_clips_a_request_timeout_to_the_deadline() {
    let addr = http_server(Arc::new(AtomicU32::new(0)));
    let url = format!("http://{addr}/ok");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ResilienceMiddleware::new().name("nested_layers.timeouts"))
        .with(SeenTimeouts(seen.clone()))
        .build();
    get_within_two_seconds(&client, &url, Duration::from_secs(30))
        .await
        .unwrap();
    get_within_two_seconds(&client, &url, Duration::from_millis(500))
        .await
        .unwrap();
    // Outside every timeout, the request's own is left as it is.
    client
        .get(&url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    let clipped = seen[0].expect("a timeout");
    assert!(
        clipped <= Duration::from_secs(2) && clipped > Duration::from_secs(1),
        "{clipped:?}"
    );
    assert_eq!(
        seen[1],
        Some(Duration::from_millis(500)),
        "its own is shorter"
    );
    assert_eq!(seen[2], Some(Duration::from_secs(30)));
}
