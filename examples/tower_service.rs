//! The tower layers of `resilience` around a real HTTP client, behind a real axum
//! server, both on loopback: `cargo run -p resilience-tests --example tower_service
//! --features tower`.
//!
//! The service's `/data` handler calls its upstream through a hyper-util client wrapped
//! in tower layers, outermost first:
//!
//! - [`FallbackLayer`]: on an error (the breaker open, the upstream unreachable), the
//!   last good answer;
//! - [`RetryLayer`]: a second attempt after 10 ms for a transport error;
//! - [`CircuitBreakerLayer`] named [`BREAKER`], counting a 5xx answer as a failure
//!   (`failure_if`): the same breaker a `#[circuit_breaker(name = "tower-upstream")]`
//!   would use, in `resilience::registry()`;
//! - [`TimeoutLayer`]: one second per attempt.
//!
//! `main` starts both servers, breaks the upstream, shows the breaker opening and the
//! fallback answering, lets the upstream recover and the breaker close, and exits. The
//! test `tests/tests/tower_http.rs` includes this file and drives [`start`] over HTTP.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Request, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::{routing, Router};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use resilience::retry::{Backoff, Jitter};
use resilience::tower::{CircuitBreakerLayer, FallbackLayer, RetryLayer, TimeoutLayer};
use resilience::{BreakerConfig, RetryConfig};
use tokio::net::TcpListener;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder, ServiceExt};

/// The breaker in front of the upstream, in `resilience::registry()`.
pub const BREAKER: &str = "tower-upstream";

/// What the upstream answered: its status and body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
}

/// The client stack: a `Uri` in, an [`Answer`] out.
pub type Upstream = BoxCloneSyncService<Uri, Answer, BoxError>;

// ----- the upstream ----------------------------------------------------------------

/// The flaky upstream: `GET /value` answers `value n` (n counts its requests), or `503`
/// while failing.
#[derive(Clone, Default)]
pub struct Flaky {
    failing: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
}

impl Flaky {
    /// Makes `/value` fail (`true`) or answer (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Requests `/value` has received (a refusal by the breaker never gets here).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn flaky_value(State(flaky): State<Flaky>) -> axum::response::Response {
    let n = flaky.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if flaky.failing.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "upstream is down").into_response()
    } else {
        format!("value {n}").into_response()
    }
}

// ----- the client stack ------------------------------------------------------------

/// The hyper-util client behind the layers. `last_good` is what the fallback answers.
pub fn upstream_client(last_good: Arc<Mutex<Option<Answer>>>) -> Upstream {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let stack = ServiceBuilder::new()
        .layer(FallbackLayer::new(move |error: BoxError| {
            let cached = last_good
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            cached.ok_or(error)
        }))
        .layer(RetryLayer::new(RetryConfig {
            max_attempts: 2,
            backoff: Backoff::Fixed(Duration::from_millis(10)),
            jitter: Jitter::None,
            ..Default::default()
        }))
        .layer(
            CircuitBreakerLayer::new(BREAKER)
                .config(BreakerConfig {
                    failure_threshold: 3,
                    success_threshold: 1,
                    recovery_timeout: Duration::from_millis(200),
                    ..Default::default()
                })
                .failure_if(|answer: &Answer| answer.status.is_server_error()),
        )
        .layer(TimeoutLayer::new(Duration::from_secs(1)).name(BREAKER))
        .map_request(|uri: Uri| {
            let mut request = Request::new(Empty::new());
            *request.uri_mut() = uri;
            request
        })
        .and_then(|response: Response<hyper::body::Incoming>| async move {
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, BoxError>(Answer { status, body })
        })
        .service(client);
    BoxCloneSyncService::new(stack)
}

// ----- the service -----------------------------------------------------------------

#[derive(Clone)]
struct App {
    upstream: Upstream,
    value_uri: Uri,
    last_good: Arc<Mutex<Option<Answer>>>,
}

async fn data(State(app): State<App>) -> axum::response::Response {
    match app.upstream.oneshot(app.value_uri.clone()).await {
        Ok(answer) if answer.status.is_success() => {
            *app.last_good.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer.clone());
            (StatusCode::OK, answer.body).into_response()
        }
        Ok(answer) => (StatusCode::BAD_GATEWAY, answer.body).into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    }
}

/// A running service and its upstream.
pub struct Service {
    /// Where the service listens.
    pub addr: SocketAddr,
    /// The upstream, to break and mend.
    pub flaky: Flaky,
}

/// Starts the upstream and the service, each on an ephemeral loopback port; they run
/// until the tokio runtime they were started on shuts down.
pub async fn start() -> Result<Service, BoxError> {
    let flaky = Flaky::default();
    let upstream_addr = serve(
        Router::new()
            .route("/value", routing::get(flaky_value))
            .with_state(flaky.clone()),
    )
    .await?;
    let last_good = Arc::new(Mutex::new(None));
    let app = App {
        upstream: upstream_client(last_good.clone()),
        value_uri: format!("http://{upstream_addr}/value").parse()?,
        last_good,
    };
    let addr = serve(
        Router::new()
            .route("/data", routing::get(data))
            .with_state(app),
    )
    .await?;
    Ok(Service { addr, flaky })
}

async fn serve(router: Router) -> Result<SocketAddr, BoxError> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("server on {addr} stopped: {error}");
        }
    });
    Ok(addr)
}

/// `GET http://{addr}/data`: the status and the body as text.
pub async fn get_data(addr: SocketAddr) -> Result<(StatusCode, String), BoxError> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client.get(format!("http://{addr}/data").parse()?).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The breaker's state, from the registry.
pub fn breaker_state() -> String {
    resilience::registry()
        .breaker(BREAKER)
        .map_or_else(|| "unregistered".to_owned(), |b| format!("{:?}", b.state()))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let Service { addr, flaky } = start().await?;
    let show = |label: &'static str| async move {
        let (status, body) = get_data(addr).await?;
        println!(
            "{label:<20} /data -> {status} {body:<48} breaker: {}",
            breaker_state()
        );
        Ok::<_, BoxError>(body)
    };
    show("upstream healthy").await?;
    flaky.set_failing(true);
    for _ in 0..5 {
        show("upstream failing").await?;
    }
    println!("(the upstream saw {} requests)\n", flaky.requests());
    flaky.set_failing(false);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        show("upstream recovered").await?;
        if breaker_state() == "Closed" || Instant::now() > deadline {
            break;
        }
    }
    Ok(())
}
