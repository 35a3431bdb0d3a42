//! Configuration read from JSON: `BreakerConfig`, `RetryConfig`, `BudgetConfig` and
//! `MonitorConfig` (with their duration parsers: humantime strings, numbers of seconds).
//! Deserializing and validating must never panic; a configuration that validates must be
//! usable (build and drive the thing it configures) and must survive a JSON round trip.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use resilience::breaker::Breaker;
use resilience::clock::ManualClock;
use resilience::monitor::{Monitor, MonitorConfig};
use resilience::retry::{Backoff, BudgetConfig, RetryBudget};
use resilience::{BreakerConfig, RetryConfig};

fn breaker(config: BreakerConfig) {
    let clock = ManualClock::new();
    let b = Breaker::new("fuzz", config.clone())
        .expect("a validated config builds a breaker")
        .with_clock(Arc::new(clock.clone()));
    for step in 0u64..8 {
        if let Ok(permit) = b.acquire() {
            clock.advance(Duration::from_millis(step * 37));
            if step % 3 == 0 {
                permit.record_success();
            } else {
                permit.record_failure();
            }
        }
        clock.advance(config.recovery_timeout.min(Duration::from_secs(1 << 40)));
    }
    serde_json::to_string(&b.snapshot()).expect("a snapshot serializes");
    b.configure(config.clone())
        .expect("a validated config applies");

    let json = serde_json::to_string(&config).expect("a config serializes");
    let back: BreakerConfig = serde_json::from_str(&json).expect("its own JSON reads back");
    assert_eq!(back, config, "round trip through {json}");
}

fn retry(config: RetryConfig) {
    // The delays of a run whose calls fail at once: one per retry, each within the
    // exponential cap, all of them ending before `max_elapsed`.
    let delays: Vec<Duration> = config
        .schedule(SmallRng::seed_from_u64(7))
        .take(64)
        .collect();
    assert!(
        delays.len() < config.max_attempts as usize,
        "more delays than retries"
    );
    if let Backoff::Exponential { max, .. } = config.backoff {
        assert!(delays.iter().all(|d| *d <= max), "past the cap: {delays:?}");
    }
    if let Some(limit) = config.max_elapsed {
        let total = delays
            .iter()
            .try_fold(Duration::ZERO, |t, d| t.checked_add(*d));
        assert!(
            total.is_some_and(|t| t < limit),
            "past max_elapsed: {delays:?}"
        );
    }
    let mut schedule = config.schedule(SmallRng::seed_from_u64(7));
    for step in 0..8 {
        let hint = (step % 2 == 0).then(|| Duration::from_secs(u64::MAX >> step));
        let _ = schedule.next_delay(Duration::from_secs(step as u64), hint);
    }

    let json = serde_json::to_string(&config).expect("a config serializes");
    let back: RetryConfig = serde_json::from_str(&json).expect("its own JSON reads back");
    assert_eq!(back, config, "round trip through {json}");
}

fn budget(config: BudgetConfig) {
    let clock = ManualClock::new();
    let budget = RetryBudget::new(config, clock.clone()).expect("a validated config builds");
    for _ in 0..4 {
        budget.try_withdraw();
        budget.record_success();
        clock.advance(Duration::from_secs(u64::from(u32::MAX)));
    }
    assert!(budget.available() <= config.capacity);
    let s = budget.snapshot();
    assert!(
        s.available >= 0.0 && s.available <= f64::from(config.capacity),
        "{s:?}"
    );
    budget
        .configure(config)
        .expect("a validated config applies");

    let json = serde_json::to_string(&config).expect("a config serializes");
    let back: BudgetConfig = serde_json::from_str(&json).expect("its own JSON reads back");
    assert_eq!(back, config, "round trip through {json}");
}

fn monitor(config: MonitorConfig) {
    let clock = ManualClock::new();
    let monitor = Monitor::new(config.clone())
        .expect("a validated config builds")
        .with_clock(Arc::new(clock.clone()));
    for _ in 0..3 {
        monitor.record(&resilience::errors::NetworkTimeout::new("fuzz"));
        clock.advance(Duration::from_secs(1));
    }
    assert!(monitor.history_len() <= config.history_capacity);
    let _ = monitor.patterns();
    let health = monitor.health();
    assert!(health.score <= 100);
    serde_json::to_string(&monitor.snapshot()).expect("a snapshot serializes");
    monitor
        .configure(config.clone())
        .expect("a validated config applies");

    // Windows are written as seconds in an f64: the round trip may round, but must read
    // back and stay valid.
    let json = serde_json::to_string(&config).expect("a config serializes");
    let back: MonitorConfig = serde_json::from_str(&json).expect("its own JSON reads back");
    back.validate()
        .expect("a valid config stays valid through JSON");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = serde_json::from_slice::<BreakerConfig>(data) {
        if c.validate().is_ok() {
            breaker(c);
        }
    }
    if let Ok(c) = serde_json::from_slice::<RetryConfig>(data) {
        if c.validate().is_ok() {
            retry(c);
        }
    }
    if let Ok(c) = serde_json::from_slice::<BudgetConfig>(data) {
        if c.validate().is_ok() {
            budget(c);
        }
    }
    if let Ok(c) = serde_json::from_slice::<MonitorConfig>(data) {
        if c.validate().is_ok() {
            monitor(c);
        }
    }
});
