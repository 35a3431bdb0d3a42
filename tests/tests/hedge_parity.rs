//! One hedge engine, two front ends: the same scripted calls through `#[hedge]` and
//! through `HedgeLayer` (feature `tower`), on paused time, start the same runs at the
//! same moments, are won by the same runs, and report the same events (but for `via`
//! and `function`) and metrics (`cargo test -p resilience-tests --features tower --test
//! hedge_parity`).
//!
//! A binary of its own: it installs the process's metrics recorder and a subscriber.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use resilience::errors::ServiceUnavailable;
use resilience::registry::Registry;
use resilience::tower::HedgeLayer;
use resilience::{hedge, HedgeSnapshot};
use resilience_tests::capture::Capture;
use tower::{service_fn, BoxError, Layer, ServiceExt};

/// Each run of a call, in the order started: how long it takes and whether it answers.
type Script = &'static [(u64, bool)];

/// The runs of the call in progress: its script and how many have started.
static SCRIPT: Mutex<(Script, usize)> = Mutex::new((&[], 0));

fn lock() -> std::sync::MutexGuard<'static, (Script, usize)> {
    SCRIPT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One run of the scripted call: its number (from 1) once its time is up, or a
/// transient error.
async fn scripted_run() -> Result<u32, ServiceUnavailable> {
    let (wait, answers, run) = {
        let mut script = lock();
        let run = script.1;
        script.1 += 1;
        let (wait, answers) = script.0[run];
        (wait, answers, run as u32 + 1)
    };
    tokio::time::sleep(Duration::from_millis(wait)).await;
    if answers {
        Ok(run)
    } else {
        Err(ServiceUnavailable::new(format!("run {run} failed")))
    }
}

static ATTRIBUTE: LazyLock<Registry> = LazyLock::new(Registry::new);
static LAYER: LazyLock<Registry> = LazyLock::new(Registry::new);

#[hedge(name = "parity", delay = 10ms, max_hedges = 2, registry = ATTRIBUTE)]
async fn through_the_attribute() -> Result<u32, ServiceUnavailable> {
    scripted_run().await
}

/// The scripts, one call each: answered before the delay; a hedge after the delay whose
/// failure starts the third run at once, which wins; every run failing.
const CALLS: [Script; 3] = [
    &[(5, true)],
    &[(1_000, true), (3, false), (20, true)],
    &[(1_000, false), (1_000, false), (1_000, false)],
];

/// What one front end did with the calls.
#[derive(Debug, PartialEq)]
struct Seen {
    /// Per call: its answer (or error text), when it came, and the runs it started.
    calls: Vec<(Result<u32, String>, Duration, usize)>,
    /// The hedge's counts.
    hedge: (u64, u64, u64),
    /// The events, without `via` and `function`.
    events: Vec<Event>,
    /// `resilience_hedges_total` and `resilience_hedge_wins_total` of the hedge.
    metrics: (u64, u64),
}

/// A hedge event: its level, message and other fields.
#[derive(Clone, Debug, PartialEq)]
struct Event {
    level: tracing::Level,
    message: String,
    fields: BTreeMap<String, String>,
}

/// A counter of the rendered Prometheus text.
fn counter(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

fn counts(snapshot: HedgeSnapshot) -> (u64, u64, u64) {
    (
        snapshot.hedged_calls,
        snapshot.hedges_started,
        snapshot.hedge_wins,
    )
}

/// Runs the calls through `call`, then takes what was reported: events checked for
/// their `via` and `function`, then left without them.
async fn run<F, Fut>(
    call: F,
    via: &str,
    function: &str,
    capture: &Capture,
    prometheus: &metrics_exporter_prometheus::PrometheusHandle,
    registry: &Registry,
) -> Seen
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u32, String>>,
{
    let before = prometheus.render();
    let mut calls = Vec::new();
    for script in CALLS {
        *lock() = (script, 0);
        let start = tokio::time::Instant::now();
        let answer = call().await;
        calls.push((answer, start.elapsed(), lock().1));
    }
    let after = prometheus.render();
    let hedges = r#"resilience_hedges_total{hedge="parity"}"#;
    let wins = r#"resilience_hedge_wins_total{hedge="parity"}"#;
    let mut events: Vec<Event> = (capture.take().into_iter())
        .filter(|e| e.target == "resilience::hedge")
        .map(|e| {
            let mut fields = e.fields;
            let message = fields.remove("message").unwrap_or_default();
            Event {
                level: e.level,
                message,
                fields,
            }
        })
        .collect();
    for event in &mut events {
        assert_eq!(
            event.fields.remove("via").as_deref(),
            Some(via),
            "{event:?}"
        );
        assert_eq!(
            event.fields.remove("function").as_deref(),
            Some(function),
            "{event:?}"
        );
    }
    Seen {
        calls,
        hedge: counts(registry.hedge("parity").unwrap().snapshot()),
        events,
        metrics: (
            counter(&after, hedges) - counter(&before, hedges),
            counter(&after, wins) - counter(&before, wins),
        ),
    }
}

#[tokio::test(start_paused = true)]
async fn the_attribute_and_the_layer_run_the_same_race() {
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this process");
    let capture = Capture::new();
    let _subscriber = tracing::subscriber::set_default(capture.subscriber());

    let attribute = run(
        || async { through_the_attribute().await.map_err(|e| e.to_string()) },
        "attribute",
        concat!(module_path!(), "::through_the_attribute"),
        &capture,
        &prometheus,
        &ATTRIBUTE,
    )
    .await;

    let svc = HedgeLayer::new(Duration::from_millis(10))
        .max_hedges(2)
        .name("parity")
        .registry(&LAYER)
        .layer(service_fn(|()| async {
            scripted_run().await.map_err(BoxError::from)
        }));
    let layer = run(
        || {
            let svc = svc.clone();
            async move { svc.oneshot(()).await.map_err(|e| e.to_string()) }
        },
        "tower",
        "parity",
        &capture,
        &prometheus,
        &LAYER,
    )
    .await;

    assert_eq!(attribute, layer);
    // And what they both did is the race as written.
    assert_eq!(
        attribute.calls,
        [
            (Ok(1), Duration::from_millis(5), 1),
            // Run 2 at 10 ms fails at 13, run 3 starts then and answers at 33.
            (Ok(3), Duration::from_millis(33), 3),
            // Runs at 0, 10 and 20 ms fail at 1000, 1010, 1020: the last error.
            (
                Err("run 3 failed".to_owned()),
                Duration::from_millis(1_020),
                3
            ),
        ]
    );
    assert_eq!(attribute.hedge, (2, 4, 1));
    assert_eq!(attribute.metrics, (4, 1));
    let summary: Vec<(&str, Option<&str>, Option<&str>)> = attribute
        .events
        .iter()
        .map(|e| {
            (
                e.message.as_str(),
                e.fields.get("run").map(String::as_str),
                e.fields.get("reason").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("starting a hedged run", Some("2"), Some("delay")),
            ("starting a hedged run", Some("3"), Some("retryable_error")),
            ("a hedged run answered first", Some("3"), None),
            ("starting a hedged run", Some("2"), Some("delay")),
            ("starting a hedged run", Some("3"), Some("delay")),
            ("every hedged run failed", None, None),
        ]
    );
    let last = attribute.events.last().unwrap();
    assert_eq!(last.fields["code"], "SERVICE_UNAVAILABLE_ERROR");
    assert_eq!(last.fields["error"], "run 3 failed");
}
