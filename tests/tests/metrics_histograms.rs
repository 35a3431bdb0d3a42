//! The call and attempt duration histograms (`resilience_call_duration_seconds`,
//! `resilience_attempt_duration_seconds`) as a Prometheus exporter renders them: one
//! sample per call and per attempt, labelled `pattern`, `name` and `outcome`.

use std::sync::atomic::{AtomicU32, Ordering};

use metrics_exporter_prometheus::PrometheusBuilder;
use resilience::{retry, MarcusError};

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
#[error("flaky")]
struct Flaky;

static CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails twice, then succeeds.
#[retry(max_attempts = 3, backoff = none)]
fn third_time_lucky() -> Result<u32, Flaky> {
    match CALLS.fetch_add(1, Ordering::Relaxed) {
        0 | 1 => Err(Flaky),
        n => Ok(n),
    }
}

#[retry(max_attempts = 2, backoff = none)]
fn always_down() -> Result<u32, Flaky> {
    Err(Flaky)
}

/// The `_count` of `metric` with these labels in Prometheus text.
fn count(text: &str, metric: &str, name: &str, outcome: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| {
            l.starts_with(&format!("{metric}_count{{"))
                && l.contains("pattern=\"retry\"")
                && l.contains(&format!("name=\"{name}\""))
                && l.contains(&format!("outcome=\"{outcome}\""))
        })
        .unwrap_or_else(|| panic!("no {metric} {name} {outcome} in:\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn every_call_and_attempt_is_one_sample_with_its_outcome() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        assert_eq!(third_time_lucky().unwrap(), 2);
        assert!(always_down().is_err());
    });
    let text = handle.render();
    let lucky = "metrics_histograms::third_time_lucky";
    let down = "metrics_histograms::always_down";
    let call = "resilience_call_duration_seconds";
    let attempt = "resilience_attempt_duration_seconds";
    assert_eq!(count(&text, call, lucky, "success"), 1);
    assert_eq!(count(&text, attempt, lucky, "failure"), 2);
    assert_eq!(count(&text, attempt, lucky, "success"), 1);
    assert_eq!(count(&text, call, down, "failure"), 1);
    assert_eq!(count(&text, attempt, down, "failure"), 2);
    assert!(
        !text.contains(&format!("{call}_count{{name=\"{lucky}\",outcome=\"failure\"")),
        "{text}"
    );
}
