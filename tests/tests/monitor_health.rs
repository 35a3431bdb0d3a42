//! The monitor's health recovers as calls succeed again (issue 27, item 8): after a
//! chaos drill in which every call was answered, `health()` stayed "fair, 70" for
//! minutes, its three patterns (frequency, burst, cascade) costing 10 each while they
//! stayed in their windows (5 to 10 minutes). On an injected clock.

use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicU32, Ordering};

use resilience::clock::ManualClock;
use resilience::monitor::{HealthStatus, Monitor, MonitorConfig, PatternKind};
use resilience::{retry, Category, MarcusError};

#[derive(Debug, thiserror::Error)]
#[error("injected fault")]
struct Injected;

impl MarcusError for Injected {
    fn code(&self) -> &'static str {
        "INJECTED_FAULT"
    }
    fn category(&self) -> Category {
        Category::Transient
    }
}

/// 12 errors of one type over 12 seconds: a frequency, a burst and a cascade pattern.
fn drill(monitor: &Monitor, clock: &ManualClock) {
    for _ in 0..12 {
        monitor.record(&Injected);
        clock.advance(Duration::from_secs(1));
    }
}

fn monitor() -> (Monitor, ManualClock) {
    let clock = ManualClock::new();
    let monitor = Monitor::new(MonitorConfig::default())
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    (monitor, clock)
}

fn kinds(monitor: &Monitor) -> Vec<PatternKind> {
    monitor.patterns().into_iter().map(|p| p.kind).collect()
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// A call of the drill: its first attempt fails (the injected fault), the retry answers.
#[retry(max_attempts = 2, backoff = none)]
async fn answered() -> Result<(), Injected> {
    if ATTEMPTS.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
        Err(Injected)
    } else {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_drill_in_which_every_call_was_answered_leaves_the_health_at_100() {
    // The global monitor (the one attributes record into) on paused tokio time.
    let monitor = resilience::monitor();
    monitor.clear();
    for _ in 0..12 {
        answered().await.unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    assert_eq!(monitor.history().len(), 12);
    assert!(monitor.history().iter().all(|r| r.recovered));
    // The patterns are there to read, as the reference's alerts.
    assert_eq!(
        kinds(monitor),
        [
            PatternKind::Frequency,
            PatternKind::Burst,
            PatternKind::Cascade
        ]
    );
    // But every call was answered: "fair, 70" before, for up to 10 minutes.
    let health = monitor.health();
    assert_eq!(
        (health.score, health.status),
        (100, HealthStatus::Excellent),
        "{health:?}"
    );
}

#[test]
fn the_health_comes_back_a_window_after_the_last_error() {
    let (monitor, clock) = monitor();
    drill(&monitor, &clock);
    let during = monitor.health();
    // 12 errors in the last minute (−30), three patterns (−30).
    assert_eq!(
        (during.score, during.status),
        (40, HealthStatus::Poor),
        "{during:?}"
    );
    // Calls succeed again: no new error. A minute later the rate is 0 and the
    // patterns, still listed (their windows are 5 and 10 minutes), have gone quiet.
    clock.advance(Duration::from_secs(60));
    assert_eq!(kinds(&monitor).len(), 3);
    let after = monitor.health();
    assert_eq!(
        (after.score, after.status),
        (100, HealthStatus::Excellent),
        "{after:?}"
    );
    assert_eq!(after.active_patterns, 0);
    // A new error: the patterns are going on again.
    monitor.record(&Injected);
    assert!(monitor.health().score < 100);
}
