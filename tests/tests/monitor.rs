//! The error monitor on a hand-moved clock: each pattern kind at its threshold and just
//! below, the similarity weighting of cascades, the health score against the reference
//! formula computed by hand, the status bands, the history bound, configuration.

// The probe is written as the generated code writes it, `(&&&&&Probe::new(e)).view()`:
// with a concrete error type some of those borrows are redundant, by design.
#![allow(clippy::needless_borrow)]

use std::sync::Arc;
use std::time::Duration;

use resilience::__private::{observe, Probe, ViewError, ViewMarcus, ViewOpaque};
use resilience::clock::ManualClock;
use resilience::monitor::{
    HealthScore, HealthStatus, Monitor, MonitorConfig, Pattern, PatternKind,
};
use resilience::{Category, ErrorContext, MarcusError, Severity};

/// An error whose code, severity and context the test chooses.
#[derive(Debug, thiserror::Error)]
#[error("{code}")]
struct Failure {
    code: &'static str,
    severity: Severity,
    ctx: Box<ErrorContext>,
}

impl Failure {
    fn new(code: &'static str) -> Self {
        Failure {
            code,
            severity: Severity::Medium,
            ctx: Box::new(ErrorContext::new()),
        }
    }
    fn op(mut self, op: &str) -> Self {
        self.ctx.operation = op.into();
        self
    }
    fn integration(mut self, name: &str) -> Self {
        self.ctx.integration_name = Some(name.into());
        self
    }
    fn agent(mut self, agent: &str) -> Self {
        self.ctx.agent_id = Some(agent.into());
        self
    }
    fn critical(mut self) -> Self {
        self.severity = Severity::Critical;
        self
    }
}

impl MarcusError for Failure {
    fn code(&self) -> &'static str {
        self.code
    }
    fn category(&self) -> Category {
        Category::Integration
    }
    fn severity(&self) -> Severity {
        self.severity
    }
    fn context(&self) -> Option<&ErrorContext> {
        Some(&self.ctx)
    }
    fn context_mut(&mut self) -> Option<&mut ErrorContext> {
        Some(&mut self.ctx)
    }
}

/// Twenty distinct codes, so tests can avoid frequency and cascade patterns.
const CODES: [&str; 24] = [
    "E00", "E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10", "E11", "E12",
    "E13", "E14", "E15", "E16", "E17", "E18", "E19", "E20", "E21", "E22", "E23",
];

fn monitor() -> (Monitor, ManualClock) {
    let clock = ManualClock::new();
    clock.set(Duration::from_secs(3600)); // far from zero, so windows never underflow
    let monitor = Monitor::new(MonitorConfig::default())
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    (monitor, clock)
}

fn kinds(patterns: &[Pattern]) -> Vec<(PatternKind, String, usize)> {
    patterns
        .iter()
        .map(|p| (p.kind, p.key.clone(), p.count))
        .collect()
}

const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);

#[test]
fn frequency_at_five_of_one_type_within_ten_minutes() {
    let (m, clock) = monitor();
    for i in 0..4 {
        // Different operations and two minutes apart: no cascade.
        m.record(&Failure::new("KANBAN_TIMEOUT").op(["a", "b", "c", "d"][i]));
        clock.advance(2 * MIN);
    }
    assert!(
        m.patterns().is_empty(),
        "four is below the threshold: {:?}",
        m.patterns()
    );
    m.record(&Failure::new("KANBAN_TIMEOUT").op("e"));
    let patterns = m.patterns();
    assert_eq!(
        kinds(&patterns),
        vec![(PatternKind::Frequency, "KANBAN_TIMEOUT".into(), 5)]
    );
    assert_eq!(patterns[0].window, 10 * MIN);
    assert_eq!(
        patterns[0]
            .last_seen
            .duration_since(patterns[0].first_seen)
            .unwrap(),
        8 * MIN
    );

    // The first record leaves the ten-minute window two minutes later.
    clock.advance(2 * MIN);
    assert!(m.patterns().is_empty());
}

#[test]
fn burst_at_ten_errors_of_any_type_within_five_minutes() {
    let (m, clock) = monitor();
    for code in &CODES[..9] {
        m.record(&Failure::new(code));
        clock.advance(20 * SEC);
    }
    assert!(m.patterns().is_empty(), "nine is below the threshold");
    m.record(&Failure::new(CODES[9]));
    let patterns = m.patterns();
    assert_eq!(kinds(&patterns), vec![(PatternKind::Burst, "*".into(), 10)]);
    assert_eq!(patterns[0].window, 5 * MIN);
    // 9 × 20 s after the first, the first leaves the window at 5 min.
    clock.advance(5 * MIN - 9 * 20 * SEC);
    assert!(m.patterns().is_empty());
}

#[test]
fn agent_specific_at_twenty_from_one_agent_within_thirty_minutes() {
    let (m, clock) = monitor();
    // One a minute, each of another type: four in any five minutes, so no burst.
    for code in &CODES[..19] {
        m.record(&Failure::new(code).agent("agent-7"));
        m.record(&Failure::new("OTHER").agent(code)); // other agents, one error each
        clock.advance(MIN + SEC);
    }
    let p = m.patterns();
    assert!(
        p.iter().all(|p| p.kind != PatternKind::AgentSpecific),
        "nineteen is below: {p:?}"
    );
    m.record(&Failure::new(CODES[19]).agent("agent-7"));
    let agent: Vec<_> = m
        .patterns()
        .into_iter()
        .filter(|p| p.kind == PatternKind::AgentSpecific)
        .collect();
    assert_eq!(
        kinds(&agent),
        vec![(PatternKind::AgentSpecific, "agent-7".into(), 20)]
    );
    assert_eq!(agent[0].window, 30 * MIN);
}

#[test]
fn cascade_at_three_errors_of_one_type_and_operation() {
    let (m, clock) = monitor();
    // Same type and operation: 0.4 + 0.3 = 0.7, similar whatever the time.
    m.record(&Failure::new("DB_LOCK").op("save").integration("pg"));
    clock.advance(2 * MIN);
    m.record(&Failure::new("DB_LOCK").op("save").integration("other"));
    assert!(m.patterns().is_empty(), "two is below the threshold");
    clock.advance(2 * MIN);
    m.record(&Failure::new("DB_LOCK").op("save"));
    let patterns = m.patterns();
    assert_eq!(
        kinds(&patterns),
        vec![(PatternKind::Cascade, "DB_LOCK".into(), 3)]
    );
    assert_eq!(patterns[0].window, 5 * MIN);
    assert_eq!(patterns[0].operation.as_deref(), Some("save"));
    clock.advance(MIN + SEC); // the first is now 5 min 1 s old
    assert!(m.patterns().is_empty());
}

#[test]
fn cascade_by_type_integration_and_time_needs_errors_less_than_a_minute_apart() {
    // Same type and integration, different operations: 0.4 + 0.2 = 0.6, plus 0.1 when
    // less than 60 s apart.
    let run = |gap: Duration| {
        let (m, clock) = monitor();
        for op in ["a", "b", "c"] {
            m.record(&Failure::new("PLANKA_DOWN").op(op).integration("planka"));
            clock.advance(gap);
        }
        m.patterns()
    };
    let close = run(59 * SEC);
    assert_eq!(
        kinds(&close),
        vec![(PatternKind::Cascade, "PLANKA_DOWN".into(), 3)]
    );
    assert_eq!(close[0].integration.as_deref(), Some("planka"));
    assert!(run(60 * SEC).is_empty(), "60 s apart is not 'within 60 s'");
}

#[test]
fn different_types_are_never_similar_enough() {
    let (m, _clock) = monitor();
    for code in &CODES[..4] {
        // Same operation and integration, at once: 0.3 + 0.2 + 0.1 = 0.6.
        m.record(&Failure::new(code).op("sync").integration("planka"));
    }
    assert!(m.patterns().is_empty());
}

#[test]
fn similarity_weights_and_thresholds_are_configurable() {
    let (m, clock) = monitor();
    m.configure(MonitorConfig {
        cascade_similarity: 1.0,
        frequency_threshold: 2,
        ..Default::default()
    })
    .unwrap();
    for _ in 0..3 {
        m.record(&Failure::new("X").op("a"));
        clock.advance(61 * SEC); // 0.9 similar: not enough for 1.0
    }
    assert_eq!(
        kinds(&m.patterns()),
        vec![(PatternKind::Frequency, "X".into(), 3)]
    );
}

#[test]
fn health_follows_the_reference_formula() {
    let (m, clock) = monitor();
    let h = m.health();
    assert_eq!(
        (h.score, h.status, h.active_patterns),
        (100, HealthStatus::Excellent, 0)
    );

    // Three errors of different types in the last minute: rate 3 > 2 → −5.
    for code in &CODES[..3] {
        m.record(&Failure::new(code));
    }
    let h = m.health();
    assert_eq!(
        (h.error_rate_per_minute, h.score, h.status),
        (3.0, 95, HealthStatus::Excellent)
    );

    // Six: rate > 5 → −15.
    for code in &CODES[3..6] {
        m.record(&Failure::new(code));
    }
    assert_eq!(m.health().score, 85);

    // Eleven: rate > 10 → −30, and a burst (≥ 10 in 5 min) → −10.
    for code in &CODES[6..11] {
        m.record(&Failure::new(code));
    }
    let h = m.health();
    assert_eq!(
        (h.score, h.status, h.active_patterns),
        (60, HealthStatus::Fair, 1)
    );

    // A critical error → −25: 100 − 30 − 25 − 10 = 35.
    m.record(&Failure::new(CODES[11]).critical());
    let h = m.health();
    assert_eq!(
        (h.score, h.status, h.critical_errors),
        (35, HealthStatus::Poor, 1)
    );

    // A minute later the rate, the critical error and the burst are out of the health
    // window: a pattern costs health only while it goes on, its latest error within the
    // window (docs/reliability.md, "Health"), so the score is back to 100. `patterns()`
    // still lists the burst over its own five minutes.
    clock.advance(MIN - Duration::from_nanos(1));
    let h = m.health();
    assert_eq!(
        (h.critical_errors, h.active_patterns, h.score),
        (1, 1, 35),
        "everything is still within the window a nanosecond before the minute"
    );
    clock.advance(Duration::from_nanos(1));
    let h = m.health();
    assert_eq!(
        (
            h.error_rate_per_minute,
            h.critical_errors,
            h.active_patterns,
            h.score,
            h.status
        ),
        (0.0, 0, 0, 100, HealthStatus::Excellent)
    );
    assert_eq!(
        kinds(&m.patterns()),
        vec![(PatternKind::Burst, "*".into(), 12)]
    );
}

#[test]
fn health_floors_at_zero_with_many_patterns() {
    let (m, _clock) = monitor();
    // Twelve types five times each, with one agent: 12 frequency + 12 cascade + burst
    // + agent-specific patterns, rate 60, critical: far below zero, floored.
    for code in &CODES[..12] {
        for _ in 0..5 {
            m.record(&Failure::new(code).agent("a").critical());
        }
    }
    let h = m.health();
    assert_eq!(h.active_patterns, 26);
    assert_eq!((h.score, h.status), (0, HealthStatus::Critical));
}

#[test]
fn the_health_window_is_configurable() {
    let (m, clock) = monitor();
    m.configure(MonitorConfig {
        health_window: 10 * MIN,
        ..Default::default()
    })
    .unwrap();
    for code in &CODES[..9] {
        m.record(&Failure::new(code));
        clock.advance(MIN);
    }
    // 9 errors over 10 minutes: 0.9 a minute, no penalty; no patterns.
    let h = m.health();
    assert!((h.error_rate_per_minute - 0.9).abs() < 1e-9);
    assert_eq!(h.score, 100);
}

#[test]
fn status_bands_at_their_boundaries() {
    let cases = [
        (100, HealthStatus::Excellent),
        (90, HealthStatus::Excellent),
        (89, HealthStatus::Good),
        (75, HealthStatus::Good),
        (74, HealthStatus::Fair),
        (50, HealthStatus::Fair),
        (49, HealthStatus::Poor),
        (25, HealthStatus::Poor),
        (24, HealthStatus::Critical),
        (0, HealthStatus::Critical),
    ];
    for (score, status) in cases {
        assert_eq!(HealthStatus::from_score(score), status, "score {score}");
    }
    assert_eq!(
        serde_json::to_value(HealthStatus::Excellent).unwrap(),
        "excellent"
    );
}

#[test]
fn hand_computed_scores() {
    // (rate, critical, patterns) → score, from the reference formula.
    let cases = [
        ((0.0, 0, 0), 100),
        ((2.0, 0, 0), 100),
        ((2.01, 0, 0), 95),
        ((5.0, 0, 0), 95),
        ((5.5, 0, 0), 85),
        ((10.0, 0, 0), 85),
        ((10.5, 0, 0), 70),
        ((0.0, 1, 0), 75),
        ((0.0, 7, 0), 75),
        ((0.0, 0, 3), 70),
        ((6.0, 2, 4), 20),
        ((11.0, 1, 5), 0),
        ((11.0, 1, 50), 0),
    ];
    for ((rate, critical, patterns), score) in cases {
        let h = HealthScore::from_counts(rate, critical, patterns);
        assert_eq!(
            h.score, score,
            "rate {rate}, critical {critical}, patterns {patterns}"
        );
        assert_eq!(h.status, HealthStatus::from_score(score));
    }
}

#[test]
fn a_million_records_keep_the_history_bounded() {
    let (m, clock) = monitor();
    m.configure(MonitorConfig {
        history_capacity: 1_000,
        ..Default::default()
    })
    .unwrap();
    let agents: Vec<String> = (0..1000).map(|i| format!("agent-{i}")).collect();
    for block in 0..10 {
        for i in 0..100_000usize {
            m.record(&Failure::new(CODES[i % CODES.len()]).agent(&agents[i % agents.len()]));
            if i % 1000 == 0 {
                clock.advance(SEC);
            }
        }
        assert_eq!(m.history_len(), 1_000, "after block {block}");
    }
    assert_eq!(m.total_recorded(), 1_000_000);
    let history = m.history();
    assert_eq!(history.len(), 1_000);
    // The newest are kept: the last record's agent is agent-999.
    assert_eq!(
        history.last().unwrap().agent_id.as_deref(),
        Some("agent-999")
    );
    // Patterns count only what is retained.
    let burst = m
        .patterns()
        .into_iter()
        .find(|p| p.kind == PatternKind::Burst)
        .unwrap();
    assert_eq!(burst.count, 1_000);
}

#[test]
fn a_smaller_capacity_drops_the_oldest_at_once() {
    let (m, _clock) = monitor();
    for code in &CODES[..10] {
        m.record(&Failure::new(code));
    }
    m.configure(MonitorConfig {
        history_capacity: 3,
        ..Default::default()
    })
    .unwrap();
    let codes: Vec<_> = m.history().iter().map(|r| r.code).collect();
    assert_eq!(codes, ["E07", "E08", "E09"]);
    m.clear();
    assert_eq!(m.history_len(), 0);
    assert_eq!(m.total_recorded(), 10);
}

#[test]
fn invalid_configuration_is_refused_with_its_field() {
    let m = Monitor::default();
    let cases: Vec<(MonitorConfig, &str)> = vec![
        (
            MonitorConfig {
                history_capacity: 0,
                ..Default::default()
            },
            "history_capacity",
        ),
        (
            MonitorConfig {
                cascade_threshold: 0,
                ..Default::default()
            },
            "cascade_threshold",
        ),
        (
            MonitorConfig {
                agent_window: Duration::ZERO,
                ..Default::default()
            },
            "agent_window",
        ),
        (
            MonitorConfig {
                health_window: Duration::ZERO,
                ..Default::default()
            },
            "health_window",
        ),
        (
            MonitorConfig {
                cascade_similarity: f64::NAN,
                ..Default::default()
            },
            "cascade_similarity",
        ),
        (
            MonitorConfig {
                cascade_similarity: 0.0,
                ..Default::default()
            },
            "cascade_similarity",
        ),
        (
            MonitorConfig {
                similarity_weights: resilience::monitor::SimilarityWeights {
                    time: -0.1,
                    ..Default::default()
                },
                ..Default::default()
            },
            "similarity_weights.time",
        ),
        (
            MonitorConfig {
                similarity_weights: resilience::monitor::SimilarityWeights {
                    error_type: 0.1,
                    operation: 0.1,
                    integration: 0.1,
                    time: 0.1,
                },
                ..Default::default()
            },
            "cascade_similarity",
        ),
    ];
    for (config, field) in cases {
        let err = m.configure(config).unwrap_err();
        assert_eq!(err.field(), field);
        assert!(err.to_string().contains(field));
    }
    assert_eq!(m.config(), MonitorConfig::default());
}

#[test]
fn records_keep_the_context_and_times() {
    let (m, clock) = monitor();
    let mut failure = Failure::new("KANBAN")
        .op("create_task")
        .agent("agent-1")
        .integration("planka");
    failure.ctx.correlation_id = "corr-1".into();
    m.record(&failure);
    clock.advance(90 * SEC);
    m.record(&Failure::new("KANBAN"));
    let h = m.history();
    let r = &h[0];
    assert_eq!(
        (r.code, r.error_type, r.category, r.severity),
        ("KANBAN", "Failure", Category::Integration, Severity::Medium)
    );
    assert_eq!(r.operation.as_deref(), Some("create_task"));
    assert_eq!(r.agent_id.as_deref(), Some("agent-1"));
    assert_eq!(r.integration.as_deref(), Some("planka"));
    assert_eq!(r.correlation_id.as_deref(), Some("corr-1"));
    assert_eq!(h[1].at - h[0].at, 90 * SEC);
    assert_eq!(h[1].wall.duration_since(h[0].wall).unwrap(), 90 * SEC);
    assert_eq!(h[1].operation, None);
}

#[test]
fn errors_of_any_type_are_recorded_through_views() {
    let (m, _clock) = monitor();
    let mut io = std::io::Error::other("429 Too Many Requests");
    m.record_view(&(&&&&&Probe::new(&mut io)).view(), "fetch");
    let mut text = String::from("nope");
    m.record_view(&(&&&&&Probe::new(&mut text)).view(), "parse");
    let mut marcus = Failure::new("M");
    m.record_view(&(&&&&&Probe::new(&mut marcus)).view(), "marcus_fn");
    let h = m.history();
    assert_eq!(
        (h[0].category, h[0].operation.as_deref()),
        (Category::Transient, Some("fetch"))
    );
    assert_eq!(
        (h[1].code, h[1].operation.as_deref()),
        ("alloc::string::String", Some("parse"))
    );
    // A MarcusError without an operation in its context takes the function's name.
    assert_eq!(
        (h[2].code, h[2].operation.as_deref()),
        ("M", Some("marcus_fn"))
    );
}

#[test]
fn observe_records_errors_into_the_global_monitor_and_attributes_skip_ok() {
    // Other tests in this binary do not use the global monitor; count by a unique code.
    let count = || {
        resilience::monitor()
            .history()
            .iter()
            .filter(|r| r.code == "OBSERVED_ONCE")
            .count()
    };
    // The generated code calls `observe` on the `Err` arm only.
    #[resilience::retry(max_attempts = 1)]
    fn observed(fail: bool) -> Result<u8, Failure> {
        if fail {
            Err(Failure::new("OBSERVED_ONCE"))
        } else {
            Ok(1)
        }
    }
    assert_eq!(observed(false).ok(), Some(1));
    assert_eq!(count(), 0);
    assert!(observed(true).is_err());
    assert_eq!(count(), 1);
    let mut err = Failure::new("OBSERVED_ONCE");
    observe(&mut err, "observed_fn", |e| (&&&&&Probe::new(e)).view());
    assert_eq!(count(), 2);
    let mut plain = std::fmt::Error;
    observe(&mut plain, "plain_fn", |e| (&&&&&Probe::new(e)).view());
    let last = resilience::monitor().history().pop().unwrap();
    assert_eq!(
        (last.code, last.operation.as_deref()),
        ("core::fmt::Error", Some("plain_fn"))
    );
}

#[test]
fn snapshots_are_json() {
    let (m, _clock) = monitor();
    for _ in 0..5 {
        m.record(&Failure::new("SAME").op("x").critical());
    }
    let json = serde_json::to_value(m.snapshot()).unwrap();
    assert_eq!(json["total_recorded"], 5);
    assert_eq!(json["retained"], 5);
    assert_eq!(json["by_code"]["SAME"], 5);
    assert_eq!(json["by_severity"]["critical"], 5);
    // Frequency and cascade: 100 − 5 (rate 5 > 2) − 25 − 20 = 50.
    assert_eq!(json["health"]["score"], 50);
    assert_eq!(json["health"]["status"], "fair");
    let kinds: Vec<_> = json["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [serde_json::json!("frequency"), serde_json::json!("cascade")]
    );
    assert_eq!(json["patterns"][0]["window"], "10m");
    assert_eq!(json["config"]["frequency_window"], "10m");
    assert_eq!(json["config"]["similarity_time"], "1m");
    assert_eq!(json["recent"].as_array().unwrap().len(), 5);
    assert_eq!(json["config"]["frequency_threshold"], 5);
    let back: MonitorConfig = serde_json::from_value(json["config"].clone()).unwrap();
    assert_eq!(back, MonitorConfig::default());
    let pattern: Pattern = serde_json::from_value(json["patterns"][1].clone()).unwrap();
    assert_eq!(pattern.kind, PatternKind::Cascade);
}

#[test]
fn monitor_configs_read_durations_as_text_or_as_numbers_of_seconds() {
    // The wire format of every config ("30s"); files written with numbers still load.
    let mut json = serde_json::to_value(MonitorConfig::default()).unwrap();
    json["frequency_window"] = serde_json::json!(600);
    json["burst_window"] = serde_json::json!(300.0);
    json["health_window"] = serde_json::json!("1m");
    json["similarity_time"] = serde_json::json!("1m 0s");
    let back: MonitorConfig = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, MonitorConfig::default());
    json["cascade_window"] = serde_json::json!("five minutes");
    let err = serde_json::from_value::<MonitorConfig>(json).unwrap_err();
    assert!(err.to_string().contains("five minutes"), "{err}");
}

#[test]
fn extreme_windows_are_refused_and_the_longest_accepted_do_not_overflow() {
    let (m, clock) = monitor();
    // The longest duration a configuration takes (docs/reliability.md, "Validation").
    let longest = Duration::from_secs(3_650 * 86_400);
    type Window = fn(&mut MonitorConfig) -> &mut Duration;
    let windows: [(&str, Window); 6] = [
        ("frequency_window", |c| &mut c.frequency_window),
        ("burst_window", |c| &mut c.burst_window),
        ("agent_window", |c| &mut c.agent_window),
        ("cascade_window", |c| &mut c.cascade_window),
        ("similarity_time", |c| &mut c.similarity_time),
        ("health_window", |c| &mut c.health_window),
    ];
    for (field, window) in windows {
        for too_long in [Duration::MAX, longest + Duration::from_nanos(1)] {
            let mut config = MonitorConfig::default();
            *window(&mut config) = too_long;
            let err = m.configure(config).unwrap_err();
            assert_eq!(
                (err.field(), err.value()),
                (field, format!("{too_long:?}").as_str())
            );
            assert!(err.to_string().contains("3650 days"), "{err}");
        }
    }
    assert_eq!(
        m.config(),
        MonitorConfig::default(),
        "nothing refused applied"
    );

    m.configure(MonitorConfig {
        frequency_window: longest,
        burst_window: longest,
        agent_window: longest,
        cascade_window: longest,
        similarity_time: longest,
        health_window: longest,
        ..Default::default()
    })
    .unwrap();
    for op in ["a", "b", "c"] {
        m.record(&Failure::new("X").op(op).integration("i"));
        clock.advance(Duration::from_secs(86_400));
    }
    assert_eq!(
        kinds(&m.patterns()),
        vec![(PatternKind::Cascade, "X".into(), 3)]
    );
    assert_eq!(m.health().score, 90);
}

#[test]
fn cascades_of_many_distinct_operations_are_found_quickly() {
    let (m, clock) = monitor();
    let ops: Vec<String> = (0..10_000).map(|i| format!("op-{i}")).collect();
    for op in &ops {
        // Same type and integration, each operation once, 25 ms apart (250 s in all):
        // every error is 0.7 similar to those less than a minute from it.
        m.record(&Failure::new("FANOUT").op(op).integration("planka"));
        clock.advance(Duration::from_millis(25));
    }
    let started = std::time::Instant::now();
    let patterns = m.patterns();
    let cascade = patterns
        .iter()
        .find(|p| p.kind == PatternKind::Cascade)
        .unwrap();
    // A seed in the middle sees, on each side, the 2 399 errors less than 60 s away
    // (k × 25 ms < 60 s for k < 2 400), plus itself.
    assert_eq!(cascade.count, 2 * 2_399 + 1);
    let spread = cascade
        .last_seen
        .duration_since(cascade.first_seen)
        .unwrap();
    assert_eq!(spread, Duration::from_millis(2 * 2_399 * 25));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}
