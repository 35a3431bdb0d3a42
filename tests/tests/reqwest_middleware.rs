//! `resilience::reqwest::ResilienceMiddleware` (feature `reqwest`) against real servers
//! on loopback: 500s retried and opening the host's breaker, a 429's `Retry-After`
//! waited (once, one second, on real time) or refused past `max_retry_after`, a POST not
//! retried, a refused connection retried.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{routing, Router};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use resilience::reqwest::ResilienceMiddleware;
use resilience::retry::{Backoff, Jitter};
use resilience::{registry, BreakerConfig, BreakerState, CircuitOpen, RetryConfig};
use tokio::net::TcpListener;

/// What the server answers, request by request: a status and an optional `Retry-After`.
type Answers = &'static [(u16, Option<&'static str>)];

/// A server whose `/` answers `answers[n]` to its n-th request (the last one after
/// that): a status and an optional `Retry-After`. Returns its address and its count.
async fn server(answers: Answers) -> (SocketAddr, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    async fn answer(State((hits, answers)): State<(Arc<AtomicU32>, Answers)>) -> Response {
        let n = hits.fetch_add(1, Ordering::SeqCst) as usize;
        let (status, retry_after) = answers[n.min(answers.len() - 1)];
        let mut response =
            (StatusCode::from_u16(status).unwrap(), format!("answer {n}")).into_response();
        if let Some(after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, after.parse().unwrap());
        }
        response
    }
    let router = Router::new()
        .route("/", routing::get(answer).post(answer))
        .with_state((hits.clone(), answers));
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, hits)
}

fn client(middleware: ResilienceMiddleware) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build()
}

fn quick_retries(max_attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts,
        backoff: Backoff::Fixed(Duration::from_millis(5)),
        jitter: Jitter::None,
        ..Default::default()
    }
}

#[tokio::test]
async fn server_errors_are_retried_until_an_answer() {
    let (addr, hits) = server(&[(500, None), (503, None), (200, None)]).await;
    let client = client(
        ResilienceMiddleware::new()
            .name("t.retried")
            .retry(quick_retries(3))
            .unwrap(),
    );
    let response = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "answer 2");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_failing_host_opens_its_breaker_and_is_then_refused_without_a_request() {
    let (addr, hits) = server(&[(500, None)]).await;
    let middleware = ResilienceMiddleware::new()
        .name("t.breaker")
        .retry(quick_retries(3))
        .unwrap()
        .breaker(BreakerConfig {
            failure_threshold: 3,
            ..Default::default()
        })
        .unwrap();
    let key = middleware.breaker_key("127.0.0.1", addr.port());
    let client = client(middleware);
    let response = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(response.status(), 500); // the last answer, after 3 attempts
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(
        registry().breaker_for("t.breaker", &key).unwrap().state(),
        BreakerState::Open
    );

    let refused = client
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    let reqwest_middleware::Error::Middleware(error) = refused else {
        panic!("expected the middleware's refusal, got {refused:?}");
    };
    assert_eq!(
        error.downcast_ref::<CircuitOpen>().unwrap().name,
        "t.breaker"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

/// The middleware's breaker takes every key of `BreakerConfig`: the rates over a time
/// window, and an open period that grows with each failed trial.
#[tokio::test]
async fn the_middlewares_breaker_takes_a_time_window_and_a_growing_open_period() {
    let (addr, hits) = server(&[(500, None)]).await;
    let middleware = ResilienceMiddleware::new()
        .name("t.breaker.growth")
        .retry(quick_retries(1))
        .unwrap()
        .breaker(BreakerConfig {
            failure_rate: Some(50.0),
            minimum_calls: 2,
            rate_window: Some(Duration::from_secs(10)),
            recovery_timeout: Duration::from_secs(20),
            recovery_factor: 3.0,
            max_recovery_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        })
        .unwrap();
    let key = middleware.breaker_key("127.0.0.1", addr.port());
    let client = client(middleware);
    let refusal = || async {
        let refused = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        let reqwest_middleware::Error::Middleware(error) = refused else {
            panic!("expected the middleware's refusal, got {refused:?}");
        };
        error
            .downcast_ref::<CircuitOpen>()
            .unwrap()
            .retry_after
            .unwrap()
    };
    for _ in 0..2 {
        let response = client.get(format!("http://{addr}/")).send().await.unwrap();
        assert_eq!(response.status(), 500);
    }
    let breaker = registry().breaker_for("t.breaker.growth", &key).unwrap();
    let s = breaker.snapshot();
    assert_eq!(s.window_kind, Some(resilience::breaker::WindowKind::Time));
    assert_eq!(
        (s.state, s.open_period),
        (BreakerState::Open, Duration::from_secs(20))
    );
    assert!(refusal().await <= Duration::from_secs(20));

    breaker.transition_to_half_open();
    let trial = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(trial.status(), 500);
    let wait = refusal().await;
    assert!(
        wait > Duration::from_secs(20) && wait <= Duration::from_secs(60),
        "a failed trial: 20 s × 3, {wait:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_429s_retry_after_is_waited() {
    let (addr, hits) = server(&[(429, Some("1")), (200, None)]).await;
    let client = client(
        ResilienceMiddleware::new()
            .name("t.429")
            .retry(quick_retries(3))
            .unwrap(),
    );
    let start = Instant::now();
    let response = client.get(format!("http://{addr}/")).send().await.unwrap();
    let waited = start.elapsed();
    assert_eq!(response.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // The backoff says 5 ms; the server asked for a second.
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_millis(1_900), "waited {waited:?}");
}

#[tokio::test]
async fn a_retry_after_past_max_retry_after_ends_the_retries_at_once() {
    let (addr, hits) = server(&[(429, Some("120")), (200, None)]).await;
    let client = client(
        ResilienceMiddleware::new()
            .name("t.429.long")
            .retry(quick_retries(3))
            .unwrap()
            .max_retry_after(Duration::from_secs(60)),
    );
    let start = Instant::now();
    let response = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()[header::RETRY_AFTER], "120");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_post_is_never_retried() {
    let (addr, hits) = server(&[(503, None), (200, None)]).await;
    let client = client(
        ResilienceMiddleware::new()
            .name("t.post")
            .retry(quick_retries(3))
            .unwrap(),
    );
    let response = client
        .post(format!("http://{addr}/"))
        .body("order")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_and_counts_against_the_breaker() {
    // A port nobody listens on: bound, then released.
    let addr = {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap()
    };
    let middleware = ResilienceMiddleware::new()
        .name("t.connect")
        .retry(quick_retries(3))
        .unwrap();
    let key = middleware.breaker_key("127.0.0.1", addr.port());
    let error = client(middleware)
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert_eq!(
        registry()
            .breaker_for("t.connect", &key)
            .unwrap()
            .snapshot()
            .consecutive_failures,
        3
    );
}

#[tokio::test]
async fn retry_events_carry_the_host_method_and_path() {
    let (addr, _hits) = server(&[(503, None), (200, None)]).await;
    let capture = resilience_tests::capture::Capture::new();
    let _guard = tracing::subscriber::set_default(capture.subscriber());
    let client = client(
        ResilienceMiddleware::new()
            .name("t.events")
            .retry(quick_retries(3))
            .unwrap(),
    );
    let response = client
        .get(format!("http://{addr}/?q=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Each event of target `resilience::retry` with the fields of the spans it is in,
    // values without the quotes `Debug` puts around a text.
    let events: Vec<std::collections::BTreeMap<String, String>> =
        (capture.of("resilience::retry").iter())
            .map(|event| {
                (event.with_spans().into_iter())
                    .map(|(field, value)| (field, value.trim_matches('"').to_owned()))
                    .collect()
            })
            .collect();
    assert_eq!(events.len(), 1, "{events:#?}");
    let retrying = &events[0];
    assert_eq!(retrying["message"], "retrying after an error");
    assert_eq!(retrying["name"], "t.events");
    assert_eq!(retrying["via"], "reqwest");
    assert_eq!(retrying["host"], "127.0.0.1");
    assert_eq!(retrying["method"], "GET");
    assert_eq!(retrying["path"], "/");
    assert_eq!(retrying["code"], "HTTP_503");
}

#[tokio::test]
async fn retry_if_ok_retries_an_answer_still_pending() {
    let (addr, hits) = server(&[(202, None), (202, None), (200, None)]).await;
    let pending = client(
        ResilienceMiddleware::new()
            .name("t.retry_if_ok")
            .retry(quick_retries(4))
            .unwrap()
            .retry_if_ok(|res| res.status() == 202),
    );
    let response = pending.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    // Out of attempts, the last answer comes back as it is.
    let (addr, hits) = server(&[(202, None)]).await;
    let out_of_attempts = client(
        ResilienceMiddleware::new()
            .name("t.retry_if_ok.out")
            .retry(quick_retries(2))
            .unwrap()
            .retry_if_ok(|res| res.status() == 202),
    );
    let response = out_of_attempts
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

/// Each host's breaker has its own state series, labelled with its key (`host:port`)
/// beside the name, so one host's open breaker is not hidden by another's closed one;
/// no series of the name alone is left to claim a state for every host.
#[test]
fn each_hosts_breaker_has_its_own_state_series_labelled_with_its_key() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A recorder of this thread's, so the test owns what it reads: the runtime runs the
    // middleware (and the servers) on this thread.
    let (up, down) = metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let (up, _) = server(&[(200, None)]).await;
            let (down, _) = server(&[(500, None)]).await;
            let client = client(
                ResilienceMiddleware::new()
                    .name("t.hosts")
                    .retry(quick_retries(1))
                    .unwrap()
                    .breaker(BreakerConfig {
                        failure_threshold: 1,
                        ..Default::default()
                    })
                    .unwrap(),
            );
            for addr in [up, down] {
                client.get(format!("http://{addr}/")).send().await.unwrap();
            }
            (up, down)
        })
    });
    let text = handle.render();
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("resilience_breaker_state{") && l.contains("\"t.hosts\""))
        .collect();
    assert_eq!(series.len(), 2, "one series per host:\n{text}");
    let state = |addr: SocketAddr| -> f64 {
        let key = format!("key=\"127.0.0.1:{}\"", addr.port());
        let line = series
            .iter()
            .find(|l| l.contains(&key))
            .unwrap_or_else(|| panic!("no state series with {key} in:\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(state(up), 0.0, "closed");
    assert_eq!(state(down), 1.0, "open");
}

/// A server whose every answer takes longer than any test waits (the request is cut off
/// by the deadline first).
async fn hanging_server() -> SocketAddr {
    async fn hang() -> &'static str {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "too late"
    }
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route("/", routing::get(hang));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[derive(Debug, thiserror::Error)]
enum GatewayError {
    #[error(transparent)]
    Request(#[from] reqwest_middleware::Error),
    #[error(transparent)]
    TimedOut(#[from] resilience::TimedOut),
}

#[resilience::timeout(200ms)]
async fn get_within_200ms(client: &ClientWithMiddleware, url: &str) -> Result<u16, GatewayError> {
    Ok(client.get(url).send().await?.status().as_u16())
}

/// The deadline of a `#[timeout]` around a request bounds its attempt; the attempt it
/// cuts off is the host being slow, so the host's breaker counts it, as it counts the
/// client's own request timeout.
#[tokio::test]
async fn an_attempt_cut_off_by_the_deadline_counts_against_the_hosts_breaker() {
    let addr = hanging_server().await;
    let middleware = ResilienceMiddleware::new()
        .name("t.deadline_breaker")
        .retry(quick_retries(1))
        .unwrap()
        .breaker(BreakerConfig {
            failure_threshold: 1,
            ..Default::default()
        })
        .unwrap();
    let key = middleware.breaker_key("127.0.0.1", addr.port());
    let client = client(middleware);
    let err = get_within_200ms(&client, &format!("http://{addr}/"))
        .await
        .unwrap_err();
    let GatewayError::Request(reqwest_middleware::Error::Middleware(e)) = &err else {
        panic!("expected the middleware's TimedOut, got {err:?}");
    };
    assert!(e.is::<resilience::TimedOut>(), "{e:?}");
    assert_eq!(
        registry()
            .breaker_for("t.deadline_breaker", &key)
            .unwrap()
            .state(),
        BreakerState::Open
    );
}
