//! One retry engine behind three front ends (API section 10): the same scenario through
//! `#[retry]`, `tower::RetryLayer` and the reqwest middleware (against a real server on
//! 127.0.0.1) gives the same attempts, delays, budget counts, events (message and
//! fields, `via`) and metrics. Features `tower` and `reqwest`.
//!
//! A scenario is a script of answers, one per attempt: `Ok`, `Unavailable` (a retryable
//! failure: `errors::ServiceUnavailable` for the attribute and the layer, a 503 for the
//! middleware) or `RetryAfter(s)` (`errors::RateLimit` asking for `s` seconds, a 429 with
//! `Retry-After: s`). Each front end registers in a `Registry::new()` of its own, so the
//! budget of one name is three buckets.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use resilience::registry::Registry;
use resilience::reqwest::ResilienceMiddleware;
use resilience::retry::{Backoff, BudgetConfig, Jitter};
use resilience::tower::RetryLayer;
use resilience::{errors, BreakerConfig, RetryConfig};
use resilience_tests::capture::Capture;
use tower::{service_fn, BoxError, Layer, ServiceExt};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Ok,
    Unavailable,
    RetryAfter(u64),
}

type Script = Arc<Mutex<VecDeque<Answer>>>;

fn script(answers: &[Answer]) -> Script {
    Arc::new(Mutex::new(answers.iter().copied().collect()))
}

fn next(script: &Script) -> Answer {
    script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front()
        .unwrap_or(Answer::Unavailable)
}

/// The error the attribute's function and the layer's service fail with.
fn error_of(answer: Answer) -> Option<resilience::Error> {
    match answer {
        Answer::Ok => None,
        Answer::Unavailable => Some(errors::ServiceUnavailable::new("upstream unavailable").into()),
        Answer::RetryAfter(secs) => Some(
            errors::RateLimit::new("slow down")
                .with_retry_after(Duration::from_secs(secs))
                .into(),
        ),
    }
}

// ----- what a run saw ------------------------------------------------------------------

/// One event of target `resilience::retry`: its message and fields, `name`, `via`,
/// `error` and `code` apart (they name the front end and the outcome's form).
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    message: String,
    fields: BTreeMap<String, String>,
}

/// What one front end's run of a scenario gave.
#[derive(Debug, PartialEq)]
struct Run {
    /// Attempts made by each call.
    attempts: Vec<u32>,
    /// Whether each call ended `Ok` (for the middleware: a 2xx).
    ok: Vec<bool>,
    /// The delays before each retry, as slept on paused time.
    delays: Vec<Duration>,
    events: Vec<Seen>,
    /// `(withdrawn, rejected, available)` of the registry's budget `parity.budget`.
    budget: (u64, u64, String),
    /// `(retries, exhausted)` counted by the metrics under the instance's name.
    metrics: (u64, u64),
}

fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .expect("one recorder")
    })
}

fn counter(rendered: &str, metric: &str, name: &str) -> u64 {
    let label = format!("{metric}{{function=\"{name}\"}} ");
    rendered
        .lines()
        .find_map(|line| line.strip_prefix(&label))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

/// Collects what a run of `calls` calls did, through `call` (attempts made, result),
/// with events checked to name `name` and `via`.
async fn observe<F, Fut>(
    name: &str,
    via: &str,
    registry: &'static Registry,
    attempt_times: Arc<Mutex<Vec<tokio::time::Instant>>>,
    calls: usize,
    mut call: F,
) -> Run
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    prometheus();
    let capture = Capture::new();
    let _guard = tracing::subscriber::set_default(capture.subscriber());
    let mut attempts = Vec::new();
    let mut ok = Vec::new();
    let mut delays = Vec::new();
    for _ in 0..calls {
        let before = attempt_times.lock().unwrap().len();
        ok.push(call().await);
        let times = attempt_times.lock().unwrap();
        attempts.push(u32::try_from(times.len() - before).unwrap());
        delays.extend(times[before..].windows(2).map(|w| w[1] - w[0]));
    }
    let mut events = Vec::new();
    for event in capture.of("resilience::retry") {
        // Values without the quotes `Debug` puts around a text.
        let mut fields: BTreeMap<String, String> = (event.fields.into_iter())
            .map(|(field, value)| (field, value.trim_matches('"').to_owned()))
            .collect();
        let message = fields.remove("message").unwrap_or_default();
        let seen_name = fields.remove("name").unwrap_or_default();
        let seen_via = fields.remove("via").unwrap_or_default();
        assert_eq!((seen_name.as_str(), seen_via.as_str()), (name, via));
        fields.remove("error");
        fields.remove("code");
        events.push(Seen { message, fields });
    }
    let budget = registry.retry_budget("parity.budget").snapshot();
    let rendered = prometheus().render();
    Run {
        attempts,
        ok,
        delays,
        events,
        budget: (
            budget.withdrawn,
            budget.rejected,
            format!("{:.2}", budget.available),
        ),
        metrics: (
            counter(&rendered, resilience::metrics::RETRIES, name),
            counter(&rendered, resilience::metrics::RETRY_EXHAUSTED, name),
        ),
    }
}

fn budget_in(registry: &Registry) {
    registry
        .retry_budget("parity.budget")
        .configure(BudgetConfig {
            capacity: 3,
            refill_per_second: 0.0,
            deposit_per_success: 0.5,
            ..Default::default()
        })
        .unwrap();
}

// ----- the three front ends -------------------------------------------------------------

/// A tower service answering from `script`, noting each attempt's time.
fn tower_service(
    script: Script,
    times: Arc<Mutex<Vec<tokio::time::Instant>>>,
) -> impl tower::Service<(), Response = (), Error = BoxError, Future = impl Send> + Clone {
    service_fn(move |()| {
        times.lock().unwrap().push(tokio::time::Instant::now());
        let outcome = match error_of(next(&script)) {
            None => Ok(()),
            Some(error) => Err(BoxError::from(error)),
        };
        async move { outcome }
    })
}

/// A server on 127.0.0.1, on a thread and runtime of its own (real time), answering
/// from `script`: 200, 503, or 429 with `Retry-After`.
fn http_server(script: Script) -> std::net::SocketAddr {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let answer = move || {
                let script = script.clone();
                async move {
                    match next(&script) {
                        Answer::Ok => StatusCode::OK.into_response(),
                        Answer::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                        Answer::RetryAfter(secs) => (
                            StatusCode::TOO_MANY_REQUESTS,
                            [(header::RETRY_AFTER, secs.to_string())],
                        )
                            .into_response(),
                    }
                }
            };
            let router = axum::Router::new().route("/", axum::routing::get(answer));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    addr
}

/// Notes the time of each attempt the resilience middleware lets through.
struct Times(Arc<Mutex<Vec<tokio::time::Instant>>>);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for Times {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut axum::http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.0.lock().unwrap().push(tokio::time::Instant::now());
        next.run(req, extensions).await
    }
}

fn http_client(
    middleware: ResilienceMiddleware,
    times: Arc<Mutex<Vec<tokio::time::Instant>>>,
) -> reqwest_middleware::ClientWithMiddleware {
    // No idle connections kept: no pool timer, so paused time moves only by our sleeps.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    reqwest_middleware::ClientBuilder::new(client)
        .with(
            middleware
                .breaker(BreakerConfig {
                    failure_threshold: 1000,
                    ..Default::default()
                })
                .unwrap(),
        )
        .with(Times(times))
        .build()
}

fn config(max_attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts,
        backoff: Backoff::Exponential {
            base: Duration::from_millis(100),
            factor: 2.0,
            max: Duration::from_secs(5),
        },
        jitter: Jitter::None,
        ..Default::default()
    }
}

/// Runs `answers` through each front end with `config`, `calls` calls each.
macro_rules! parity {
    ($test:ident, $answers:expr, $calls:expr, $config:expr, $budget:expr,
     attribute = $attribute:ident) => {
        #[tokio::test(start_paused = true)]
        async fn $test() {
            static TOWER: LazyLock<Registry> = LazyLock::new(Registry::new);
            static HTTP: LazyLock<Registry> = LazyLock::new(Registry::new);
            let answers: &[Answer] = &$answers;
            if $budget {
                budget_in(&$attribute::REG);
                budget_in(&TOWER);
                budget_in(&HTTP);
            }

            // #[retry]: its function answers from the script of its own static.
            let times = Arc::new(Mutex::new(Vec::new()));
            *$attribute::SCRIPT.lock().unwrap() = Some((script(answers), times.clone()));
            let name = concat!(module_path!(), "::", stringify!($attribute), "::call");
            let attribute = observe(
                name,
                "attribute",
                &$attribute::REG,
                times,
                $calls,
                || async { $attribute::call().await.is_ok() },
            )
            .await;

            // RetryLayer.
            let times = Arc::new(Mutex::new(Vec::new()));
            let svc = RetryLayer::new($config)
                .name(concat!("parity.tower.", stringify!($test)))
                .registry(&TOWER)
                .layer(tower_service(script(answers), times.clone()));
            let layer = observe(
                concat!("parity.tower.", stringify!($test)),
                "tower",
                &TOWER,
                times,
                $calls,
                || {
                    let svc = svc.clone();
                    async move { svc.oneshot(()).await.is_ok() }
                },
            )
            .await;

            // The middleware, against a server on 127.0.0.1.
            let addr = http_server(script(answers));
            let times = Arc::new(Mutex::new(Vec::new()));
            let client = http_client(
                ResilienceMiddleware::new()
                    .name(concat!("parity.reqwest.", stringify!($test)))
                    .registry(&HTTP)
                    .retry($config)
                    .unwrap(),
                times.clone(),
            );
            let url = format!("http://{addr}/");
            let middleware = observe(
                concat!("parity.reqwest.", stringify!($test)),
                "reqwest",
                &HTTP,
                times,
                $calls,
                || {
                    let request = client.get(&url).send();
                    async move { request.await.is_ok_and(|r| r.status().is_success()) }
                },
            )
            .await;

            assert_eq!(attribute, layer, "#[retry] and RetryLayer differ");
            assert_eq!(attribute, middleware, "#[retry] and the middleware differ");
            check(stringify!($test), &attribute);
        }
    };
}

/// The `#[retry]` function of a scenario, answering from `SCRIPT`.
macro_rules! attribute {
    ($module:ident, $($key:tt)*) => {
        mod $module {
            use super::*;
            pub(super) static SCRIPT: Mutex<Option<(Script, Arc<Mutex<Vec<tokio::time::Instant>>>)>> =
                Mutex::new(None);
            pub(super) static REG: LazyLock<Registry> = LazyLock::new(Registry::new);

            #[resilience::retry($($key)*, backoff = exponential(base = 100ms, factor = 2.0, max = 5s), jitter = none, registry = REG)]
            pub(super) async fn call() -> Result<(), resilience::Error> {
                let (script, times) = SCRIPT.lock().unwrap().clone().expect("a script");
                times.lock().unwrap().push(tokio::time::Instant::now());
                match error_of(next(&script)) {
                    None => Ok(()),
                    Some(error) => Err(error),
                }
            }
        }
    };
}

fn check(test: &str, run: &Run) {
    // The figures each scenario must show, beside being equal across front ends.
    match test {
        "failures_successes_and_a_budget" => {
            assert_eq!(run.attempts, [3, 2, 2]);
            assert_eq!(run.ok, [true, true, false]);
            assert_eq!(run.delays, [100, 200, 100, 100].map(Duration::from_millis));
            // 4 tokens withdrawn from 3, with 2 successes' deposits of 0.5; the 5th refused.
            assert_eq!(run.budget, (4, 1, "0.00".to_owned()));
            assert_eq!(run.metrics, (4, 1));
            let messages: Vec<&str> = run.events.iter().map(|e| e.message.as_str()).collect();
            assert_eq!(
                messages,
                [
                    "retrying after an error",
                    "retrying after an error",
                    "retrying after an error",
                    "retrying after an error",
                    "giving up retrying"
                ]
            );
            assert_eq!(run.events[4].fields["reason"], "budget empty");
            assert_eq!(run.events[1].fields["delay_ms"], "200");
        }
        "adaptive_attempts" => {
            // Two attempts each until five calls in a row gave up; then one.
            assert_eq!(run.attempts, [2, 2, 2, 2, 2, 1, 1]);
            assert!(run
                .events
                .iter()
                .any(|e| e.message == "adaptive retry changed its attempts"
                    && e.fields["max_attempts"] == "1"));
        }
        "a_retry_after_over_max_retry_after" => {
            assert_eq!(run.attempts, [2, 1]);
            assert_eq!(run.delays, [Duration::from_secs(1)]);
            let last = run.events.last().expect("an event");
            assert_eq!(last.fields["reason"], "retry_after over max_retry_after");
        }
        other => panic!("no figures for {other}"),
    }
}

// ----- the scenarios --------------------------------------------------------------------

parity!(
    failures_successes_and_a_budget,
    [
        Answer::Unavailable,
        Answer::Unavailable,
        Answer::Ok,
        Answer::Unavailable,
        Answer::Ok,
        Answer::Unavailable,
        Answer::Unavailable,
    ],
    3,
    RetryConfig {
        budget: Some("parity.budget".into()),
        ..config(3)
    },
    true,
    attribute = budget_attr
);
attribute!(budget_attr, max_attempts = 3, budget = "parity.budget");

parity!(
    adaptive_attempts,
    [],
    7,
    RetryConfig {
        adaptive: true,
        ..config(2)
    },
    false,
    attribute = adaptive_attr
);
attribute!(adaptive_attr, max_attempts = 2, adaptive = true);

parity!(
    a_retry_after_over_max_retry_after,
    [Answer::RetryAfter(1), Answer::Ok, Answer::RetryAfter(5),],
    2,
    RetryConfig {
        max_retry_after: Duration::from_secs(2),
        ..config(3)
    },
    false,
    attribute = retry_after_attr
);
attribute!(retry_after_attr, max_attempts = 3, max_retry_after = 2s);
