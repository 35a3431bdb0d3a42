//! A real HTTP service guarded by `resilience`, and the flaky upstream it depends on, both
//! on loopback.
//!
//! The service's `/data` reads a value from the upstream over HTTP through `#[retry]`,
//! `#[circuit_breaker(name = "upstream")]`, `#[timeout]` and `#[error_context]`, and
//! `#[fallback]` answers with the last value read while the upstream is down or the
//! breaker is open. `/health` serves the registry's and the monitor's health as JSON,
//! `/metrics` what the crate reports (its `metrics` feature) as Prometheus text.
//!
//! `main` starts both servers, breaks the upstream through its admin route, shows the
//! breaker opening and the fallback answering, lets it recover, prints `/health` and the
//! `resilience_*` series, and exits. Run it with `cargo run --example service`.
//!
//! With the `chaos` feature (`cargo run --example service --features chaos`), faults can
//! be switched on while it runs (`resilience::chaos`): `POST
//! /chaos/{site}/{fault}/{rate}` sets an `error` or `refusal` fault (`POST
//! /chaos/{site}/latency/{rate}/{ms}` a latency) on a site, the breaker's name
//! (`upstream`) or the read's function name (`read_value_site()`), and `POST /chaos/clear`
//! clears them all; `/health` shows them under `breakers.chaos`.
//!
//! The test `tests/tests/service.rs` includes this file and drives [`start`] over HTTP.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing;
use axum::{Json, Router};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use resilience::{
    circuit_breaker, error_context, fallback, retry, timeout, CircuitOpen, ErrorContext,
    InjectedFault, MarcusError, TimedOut,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;

/// The name of the breaker in front of the upstream, as `/health` and `/metrics` show it.
pub const BREAKER: &str = "upstream";

/// Any error of starting a server or of a request made by [`get`] and [`post`].
pub type BoxError = Box<dyn Error + Send + Sync>;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

// ----- the upstream ----------------------------------------------------------------

/// The flaky upstream: `GET /value` answers `{"value": n}` (n counts up), or `503` while
/// failing; `POST /admin/fail` and `POST /admin/recover` switch it.
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<UpstreamState>,
}

#[derive(Default)]
struct UpstreamState {
    failing: AtomicBool,
    /// Requests that reached `/value`, so a caller can tell a refusal by the breaker
    /// (which never gets here) from a failed call.
    requests: AtomicU64,
}

impl Upstream {
    /// Starts it on an ephemeral loopback port.
    pub async fn start() -> Result<Upstream, BoxError> {
        let state = Arc::new(UpstreamState::default());
        let router = Router::new()
            .route("/value", routing::get(upstream_value))
            .route("/admin/fail", routing::post(upstream_fail))
            .route("/admin/recover", routing::post(upstream_recover))
            .with_state(state.clone());
        let addr = serve(router).await?;
        Ok(Upstream { addr, state })
    }

    /// Whether `/value` fails now.
    pub fn is_failing(&self) -> bool {
        self.state.failing.load(Ordering::SeqCst)
    }

    /// Requests `/value` has received.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }
}

async fn upstream_value(State(state): State<Arc<UpstreamState>>) -> Response {
    let n = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if state.failing.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "upstream is down").into_response()
    } else {
        Json(json!({ "value": n })).into_response()
    }
}

async fn upstream_fail(State(state): State<Arc<UpstreamState>>) -> StatusCode {
    state.failing.store(true, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

async fn upstream_recover(State(state): State<Arc<UpstreamState>>) -> StatusCode {
    state.failing.store(false, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

// ----- the protected call ----------------------------------------------------------

/// What can go wrong reading from the upstream.
#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
pub enum UpstreamError {
    /// It answered, with an error status.
    #[error("the upstream answered {status}")]
    #[marcus(category = transient, remediation(fallback = "Serve the last value read"))]
    Status {
        /// The HTTP status.
        status: u16,
        /// Filled by `#[error_context]` and `#[retry]`.
        #[context]
        ctx: Box<ErrorContext>,
    },
    /// It could not be reached, or its answer not read.
    #[error("the upstream could not be reached")]
    #[marcus(category = transient)]
    Transport {
        /// The client's error.
        #[source]
        source: BoxError,
        /// Filled by `#[error_context]` and `#[retry]`.
        #[context]
        ctx: Box<ErrorContext>,
    },
    /// It answered `200` with a body that is not a reading: a contract broken, not
    /// worth retrying.
    #[error("the upstream sent a body that is not a reading")]
    BadBody {
        /// The parser's error.
        #[source]
        source: serde_json::Error,
        /// Filled by `#[error_context]`.
        #[context]
        ctx: Box<ErrorContext>,
    },
    /// The fallback had nothing to answer with: no value was ever read.
    #[error("no value has been read from the upstream yet")]
    #[marcus(category = transient, remediation(immediate = "Try again once the upstream is back"))]
    NothingCached,
    /// The breaker refused the call.
    #[error(transparent)]
    CircuitOpen(#[from] CircuitOpen),
    /// The upstream took longer than `#[timeout]` allows.
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
    /// A fault switched on through `/chaos` (transient, as the fault says).
    #[error(transparent)]
    #[marcus(transparent)]
    Injected(#[from] InjectedFault),
}

/// Where `/data`'s answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Read from the upstream just now.
    Upstream,
    /// The last value read, answered by the fallback.
    Fallback,
}

/// `/data`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// The upstream's value.
    pub value: u64,
    /// Whether it is fresh.
    pub source: Source,
}

/// The service's state, shared by its handlers.
struct App {
    client: HttpClient,
    value_uri: Uri,
    last_good: Mutex<Option<u64>>,
}

// A trial call a little after the breaker opens; two calls per request, so a request
// that fails counts two failures and the second failing request opens the breaker.
#[fallback(last_good)]
#[retry(max_attempts = 2, backoff = fixed(10ms), jitter = none)]
#[circuit_breaker(name = "upstream", failure_threshold = 4, success_threshold = 1, recovery_timeout = 100ms)]
#[timeout(1s)]
#[error_context("read_upstream_value", integration_name = "upstream")]
async fn read_value(app: &App) -> Result<Reading, UpstreamError> {
    let response =
        app.client
            .get(app.value_uri.clone())
            .await
            .map_err(|e| UpstreamError::Transport {
                source: e.into(),
                ctx: Box::default(),
            })?;
    let status = response.status();
    if !status.is_success() {
        return Err(UpstreamError::Status {
            status: status.as_u16(),
            ctx: Box::default(),
        });
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| UpstreamError::Transport {
            source: e.into(),
            ctx: Box::default(),
        })?
        .to_bytes();

    #[derive(Deserialize)]
    struct Value {
        value: u64,
    }
    let Value { value } =
        serde_json::from_slice(&body).map_err(|source| UpstreamError::BadBody {
            source,
            ctx: Box::default(),
        })?;
    *app.last_good.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
    Ok(Reading {
        value,
        source: Source::Upstream,
    })
}

/// The chaos site name of [`read_value`] (its default name: `module::path::read_value`).
#[cfg(feature = "chaos")]
pub fn read_value_site() -> &'static str {
    concat!(module_path!(), "::read_value")
}

/// The fallback: the last value read, if any.
async fn last_good(app: &App) -> Result<Reading, UpstreamError> {
    let last = *app.last_good.lock().unwrap_or_else(PoisonError::into_inner);
    match last {
        Some(value) => Ok(Reading {
            value,
            source: Source::Fallback,
        }),
        None => Err(UpstreamError::NothingCached),
    }
}

// ----- the service -----------------------------------------------------------------

/// A running service and its upstream.
pub struct Service {
    /// Where the service listens.
    pub addr: SocketAddr,
    /// The upstream it reads from.
    pub upstream: Upstream,
}

/// Starts the upstream and the service, each on an ephemeral loopback port, with the
/// Prometheus recorder installed (once per process). The servers run until the tokio
/// runtime they were started on shuts down.
///
/// The breaker is global (named [`BREAKER`] in `resilience::registry()`), so services
/// started in one process share it.
pub async fn start() -> Result<Service, BoxError> {
    let metrics = prometheus()?;
    let upstream = Upstream::start().await?;
    let app = Arc::new(App {
        client: Client::builder(TokioExecutor::new()).build_http(),
        value_uri: format!("http://{}/value", upstream.addr).parse()?,
        last_good: Mutex::new(None),
    });
    let router = Router::new()
        .route("/data", routing::get(data).with_state(app))
        .route("/health", routing::get(health))
        .route(
            "/metrics",
            routing::get(move || render_metrics(metrics.clone())),
        );
    #[cfg(feature = "chaos")]
    let router = router
        .route("/chaos/clear", routing::post(chaos_clear))
        .route("/chaos/{site}/{fault}/{rate}", routing::post(chaos_set))
        .route(
            "/chaos/{site}/{fault}/{rate}/{ms}",
            routing::post(chaos_set),
        );
    let addr = serve(router).await?;
    Ok(Service { addr, upstream })
}

/// The process's Prometheus recorder, installed on first use.
fn prometheus() -> Result<PrometheusHandle, BoxError> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    let installed = HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .map_err(|e| e.to_string())?;
        resilience::metrics::describe();
        Ok(handle)
    });
    installed
        .clone()
        .map_err(|e| format!("installing the Prometheus recorder: {e}").into())
}

async fn data(State(app): State<Arc<App>>) -> Response {
    match read_value(&app).await {
        Ok(reading) => Json(reading).into_response(),
        Err(error) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(error.report().to_api_json()),
            )
                .into_response();
            if let Some(after) = error.retry_after() {
                let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
    }
}

async fn health() -> Json<serde_json::Value> {
    let breakers = resilience::registry().health();
    let status = if breakers.is_healthy() {
        "ok"
    } else {
        "degraded"
    };
    Json(json!({
        "status": status,
        "breakers": breakers,
        "errors": resilience::monitor().health(),
    }))
}

/// `POST /chaos/{site}/{fault}/{rate}[/{ms}]`: sets the fault; `422` with the reason when
/// the site cannot take it or a value is wrong.
#[cfg(feature = "chaos")]
async fn chaos_set(
    axum::extract::Path(segments): axum::extract::Path<Vec<String>>,
) -> (StatusCode, String) {
    use resilience::chaos::{chaos, Fault};
    let (site, fault, rate, ms) = match segments.as_slice() {
        [site, fault, rate] => (site, fault, rate, None),
        [site, fault, rate, ms] => (site, fault, rate, Some(ms)),
        _ => return (StatusCode::NOT_FOUND, "no such route".into()),
    };
    let Ok(rate) = rate.parse::<f64>() else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("rate {rate:?} is not a number"),
        );
    };
    let fault = match (fault.as_str(), ms.map(|ms| ms.parse::<u64>())) {
        ("error", None) => Fault::error(rate),
        ("refusal", None) => Fault::refusal(rate),
        ("latency", Some(Ok(ms))) => Fault::latency(rate, Duration::from_millis(ms)),
        _ => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                "the fault is `error/{rate}`, `refusal/{rate}` or `latency/{rate}/{ms}`".into(),
            )
        }
    };
    match chaos().inject(site, fault) {
        Ok(()) => (StatusCode::NO_CONTENT, String::new()),
        Err(error) => (StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    }
}

/// `POST /chaos/clear`: every fault off.
#[cfg(feature = "chaos")]
async fn chaos_clear() -> StatusCode {
    resilience::chaos::chaos().clear_all();
    StatusCode::NO_CONTENT
}

async fn render_metrics(handle: PrometheusHandle) -> impl IntoResponse {
    // Drains histograms; the crate reports none today, but an application may.
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
}

/// Serves `router` on an ephemeral loopback port, in the background.
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

// ----- a small client, for main and the test ---------------------------------------

/// `GET http://{addr}{path}`: the status and the body as text.
pub async fn get(addr: SocketAddr, path: &str) -> Result<(StatusCode, String), BoxError> {
    request(addr, path, axum::http::Method::GET).await
}

/// `POST http://{addr}{path}` with an empty body: the status and the body as text.
pub async fn post(addr: SocketAddr, path: &str) -> Result<(StatusCode, String), BoxError> {
    request(addr, path, axum::http::Method::POST).await
}

async fn request(
    addr: SocketAddr,
    path: &str,
    method: axum::http::Method,
) -> Result<(StatusCode, String), BoxError> {
    static CLIENT: OnceLock<HttpClient> = OnceLock::new();
    let client = CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http());
    let request = axum::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(Empty::new())?;
    let response = client.request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The breaker's state as `/health` shows it (`"closed"`, `"open"`, …).
pub async fn breaker_state(addr: SocketAddr) -> Result<String, BoxError> {
    let (_, body) = get(addr, "/health").await?;
    let health: serde_json::Value = serde_json::from_str(&body)?;
    let breakers = health["breakers"]["breakers"]
        .as_array()
        .ok_or("no breakers in /health")?;
    let upstream = breakers
        .iter()
        .find(|b| b["name"] == BREAKER)
        .ok_or("no upstream breaker")?;
    Ok(upstream["state"].as_str().unwrap_or_default().to_owned())
}

// ----- the demonstration -----------------------------------------------------------

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let service = start().await?;
    let (api, upstream) = (service.addr, service.upstream.addr);
    println!("service on http://{api}, upstream on http://{upstream}\n");

    let show = |label: &'static str| async move {
        let (status, body) = get(api, "/data").await?;
        let state = breaker_state(api).await.unwrap_or_else(|e| e.to_string());
        println!("{label:<22} /data -> {status} {body:<34} breaker: {state}");
        Ok::<_, BoxError>(body)
    };

    show("upstream healthy").await?;
    post(upstream, "/admin/fail").await?;
    for _ in 0..4 {
        show("upstream failing").await?;
    }

    println!("\nwaiting for the breaker's recovery timeout, with the upstream back ...\n");
    post(upstream, "/admin/recover").await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let body = show("upstream recovered").await?;
        if body.contains("\"source\":\"upstream\"") || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    #[cfg(feature = "chaos")]
    {
        println!("\nswitching faults on through /chaos ...\n");
        post(api, "/chaos/upstream/refusal/1.0").await?;
        show("injected refusal").await?;
        post(api, "/chaos/clear").await?;
        let error = format!("/chaos/{}/error/1.0", read_value_site());
        post(api, &error).await?;
        for _ in 0..2 {
            show("injected errors").await?;
        }
        post(api, "/chaos/clear").await?;
    }

    let (_, health) = get(api, "/health").await?;
    let health: serde_json::Value = serde_json::from_str(&health)?;
    println!("\n/health:\n{}", serde_json::to_string_pretty(&health)?);

    let (_, metrics) = get(api, "/metrics").await?;
    println!("\n/metrics (resilience_* series):");
    for line in metrics.lines().filter(|l| l.starts_with("resilience_")) {
        println!("  {line}");
    }
    Ok(())
}
