//! What `#[hedge]` tells `tracing` (target `resilience::hedge`) and the metrics recorder
//! (`resilience_hedges_total`, `resilience_hedge_wins_total`), captured as an
//! application's subscriber and Prometheus exporter would see them.
//!
//! A binary of its own: its callsites are first hit under the test's subscriber, and it
//! installs the process's one metrics recorder.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use resilience::{hedge, MarcusError};
use tracing::field::{Field, Visit};
use tracing::Level;
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Clone, Debug)]
struct Seen {
    level: Level,
    message: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Seen>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "resilience::hedge" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Seen {
                level: *event.metadata().level(),
                message,
                fields: fields.0,
            });
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("the replica is down")]
#[marcus(category = transient)]
struct Down;

static RUNS: AtomicU32 = AtomicU32::new(0);

/// Run 1 is slow, run 2 fails (retryable), run 3 answers; then every run fails.
#[hedge(name = "events.replica", delay = 10ms, max_hedges = 2)]
async fn replica(fail_all: bool) -> Result<u32, Down> {
    let run = RUNS.fetch_add(1, Ordering::SeqCst) + 1;
    if fail_all {
        return Err(Down);
    }
    match run {
        1 => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(run)
        }
        2 => Err(Down),
        _ => Ok(run),
    }
}

#[tokio::test(start_paused = true)]
async fn hedges_started_won_and_all_failed_are_reported() {
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this process");
    let capture = Capture::default();
    let _subscriber =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    assert_eq!(replica(false).await.unwrap(), 3);
    assert!(replica(true).await.is_err());

    let events = capture.0.lock().unwrap().clone();
    let summary: Vec<(Level, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            let field = |name: &str| e.fields.get(name).map_or("", String::as_str);
            (e.level, e.message.as_str(), field("run"), field("reason"))
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Level::DEBUG, "starting a hedged run", "2", "delay"),
            (
                Level::DEBUG,
                "starting a hedged run",
                "3",
                "retryable_error"
            ),
            (Level::DEBUG, "a hedged run answered first", "3", ""),
            // The second call: each run fails at once, starting the next.
            (
                Level::DEBUG,
                "starting a hedged run",
                "2",
                "retryable_error"
            ),
            (
                Level::DEBUG,
                "starting a hedged run",
                "3",
                "retryable_error"
            ),
            (Level::WARN, "every hedged run failed", "", ""),
        ]
    );
    assert!(events.iter().all(
        |e| e.fields["hedge"] == "events.replica" && e.fields["function"].ends_with("replica")
    ));
    assert_eq!(events[5].fields["runs"], "3");
    assert_eq!(events[5].fields["code"], "DOWN_ERROR");

    let text = prometheus.render();
    assert!(
        text.contains(r#"resilience_hedges_total{hedge="events.replica"} 4"#),
        "{text}"
    );
    assert!(
        text.contains(r#"resilience_hedge_wins_total{hedge="events.replica"} 1"#),
        "{text}"
    );
}
