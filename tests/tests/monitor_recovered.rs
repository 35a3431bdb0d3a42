//! Issue 16, item 10: a record says whether its error was recovered (retried to success
//! or answered by a fallback), and the health score's error rate counts only the others.
//! One test: the monitor is global, and this binary's records are all its own.

use std::cell::Cell;

use resilience::{fallback, monitor, retry};

#[derive(Debug, thiserror::Error)]
#[error("upstream timed out")]
struct Flaky;

#[retry(max_attempts = 3, backoff = none)]
fn second_time_lucky(calls: &Cell<u32>) -> Result<u32, Flaky> {
    calls.set(calls.get() + 1);
    if calls.get() < 2 {
        Err(Flaky)
    } else {
        Ok(1)
    }
}

fn cached(_: u32) -> Result<u32, Flaky> {
    Ok(0)
}

#[fallback(cached)]
fn with_fallback(id: u32) -> Result<u32, Flaky> {
    let _ = id;
    Err(Flaky)
}

#[retry(max_attempts = 2, backoff = none)]
fn always_down() -> Result<u32, Flaky> {
    Err(Flaky)
}

#[test]
fn recovered_errors_are_marked_and_left_out_of_the_error_rate() {
    let m = monitor();
    m.clear();
    for _ in 0..10 {
        let calls = Cell::new(0);
        assert_eq!(second_time_lucky(&calls).unwrap(), 1);
        assert_eq!(with_fallback(7).unwrap(), 0);
    }
    let history = m.history();
    assert_eq!(history.len(), 20, "every error is still recorded");
    assert!(history.iter().all(|r| r.recovered), "{history:#?}");
    let health = m.health();
    assert_eq!(health.error_rate_per_minute, 0.0, "{health:?}");
    // Patterns still see every error (the reference's arithmetic for them is kept).
    assert_eq!(
        health.score,
        resilience::HealthScore::from_counts(0.0, 0, health.active_patterns).score
    );

    assert!(always_down().is_err());
    let unrecovered: Vec<_> = m.history().into_iter().filter(|r| !r.recovered).collect();
    assert_eq!(unrecovered.len(), 2, "both attempts of a call that failed");
    assert_eq!(
        unrecovered[0].function,
        Some("monitor_recovered::always_down")
    );
    assert_eq!(m.health().error_rate_per_minute, 2.0);
}
