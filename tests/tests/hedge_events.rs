//! What `#[hedge]` tells `tracing` (target `resilience::hedge`) and the metrics recorder
//! (`resilience_hedges_total`, `resilience_hedge_wins_total`), captured as an
//! application's subscriber and Prometheus exporter would see them.
//!
//! A binary of its own: its callsites are first hit under the test's subscriber, and it
//! installs the process's one metrics recorder.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::{hedge, MarcusError};
use resilience_tests::capture::Capture;
use tracing::Level;

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
    let capture = Capture::new();
    let _subscriber = tracing::subscriber::set_default(capture.subscriber());

    assert_eq!(replica(false).await.unwrap(), 3);
    assert!(replica(true).await.is_err());

    let events = capture.of("resilience::hedge");
    let summary: Vec<(Level, &str, &str, &str)> = events
        .iter()
        .map(|e| (e.level, e.message(), e.field("run"), e.field("reason")))
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
