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

/// The `_count` of `metric` with these labels (`pattern="retry"`) in Prometheus text.
fn count(text: &str, metric: &str, name: &str, outcome: &str) -> u64 {
    count_of(text, metric, "retry", name, outcome)
}

/// The `_count` of `metric` with these labels in Prometheus text.
fn count_of(text: &str, metric: &str, pattern: &str, name: &str, outcome: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| {
            l.starts_with(&format!("{metric}_count{{"))
                && l.contains(&format!("pattern=\"{pattern}\""))
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
        !text.contains(&format!(
            "{call}_count{{name=\"{lucky}\",outcome=\"failure\""
        )),
        "{text}"
    );
}

#[derive(Debug, thiserror::Error, MarcusError)]
enum BoardError {
    #[error("the board is down")]
    #[marcus(category = transient)]
    Down,
    #[error(transparent)]
    #[marcus(transparent)]
    Open(#[from] resilience::CircuitOpen),
}

#[resilience::circuit_breaker(name = "histograms.kanban", failure_threshold = 5)]
fn board(fail: bool) -> Result<u32, BoardError> {
    if fail {
        Err(BoardError::Down)
    } else {
        Ok(1)
    }
}

/// A call through a closed breaker reads no clock until someone listens: `describe()`
/// (called once the recorder is installed) or `time_calls(true)`; then each call is a
/// sample with the outcome the breaker counted.
#[test]
fn a_call_through_a_breaker_is_timed_once_someone_listens() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let call = "resilience_call_duration_seconds";
    metrics::with_local_recorder(&recorder, || {
        board(false).unwrap();
        assert!(
            !handle.render().contains("name=\"histograms.kanban\""),
            "timed before anyone asked"
        );
        resilience::metrics::describe();
        board(false).unwrap();
        board(false).unwrap();
        assert!(board(true).is_err());
    });
    let text = handle.render();
    assert_eq!(
        count_of(&text, call, "breaker", "histograms.kanban", "success"),
        2
    );
    assert_eq!(
        count_of(&text, call, "breaker", "histograms.kanban", "failure"),
        1
    );
}

/// The `resilience_*` names in `text`, a histogram's or summary's suffix removed.
fn names(text: &str) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    for (at, _) in text.match_indices("resilience_") {
        let name: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let name = ["_count", "_sum", "_bucket"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(&name);
        found.insert(name.to_owned());
    }
    found
}

#[test]
fn the_grafana_dashboard_reads_only_metrics_the_crate_reports_and_the_docs_list() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let dashboard = read("docs/grafana-dashboard.json");
    serde_json::from_str::<serde_json::Value>(&dashboard).expect("the dashboard is JSON");
    let reported = names(&read("resilience/src/metrics.rs"));
    let documented = names(&read("docs/events.md"));
    let shown = names(&dashboard);
    assert!(shown.len() >= 10, "{shown:?}");
    for name in &shown {
        assert!(
            reported.contains(name),
            "the dashboard reads {name}, which the crate never reports"
        );
    }
    for name in &reported {
        assert!(
            documented.contains(name),
            "docs/events.md's table misses {name}"
        );
    }
}
