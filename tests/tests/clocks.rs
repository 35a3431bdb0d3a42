//! Clocks that go back or reach the end of their range, on injected clocks: no wait
//! longer than one period, arithmetic that saturates to the safe side (refuse, not
//! admit), and a manual clock that never wraps.

use std::sync::Arc;
use std::time::Duration;

use resilience::breaker::Breaker;
use resilience::clock::{Clock, ManualClock};
use resilience::rate_limit::RateLimiter;
use resilience::retry::{BudgetConfig, RetryBudget};
use resilience::{BreakerConfig, BreakerState, RateLimitConfig};

#[test]
fn a_rate_limiter_on_a_clock_set_back_waits_one_period_at_most() {
    let clock = ManualClock::new();
    clock.set(Duration::from_secs(1000));
    let limiter = RateLimiter::new(
        "clocks.rate",
        RateLimitConfig {
            limit: 10,
            per: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .unwrap()
    .with_clock(Arc::new(clock.clone()));
    while limiter.check().is_ok() {}
    clock.set(Duration::from_secs(10));
    // Refused every call for 16 min 30 s before.
    let limited = limiter.check().unwrap_err();
    assert!(limited.retry_after <= Duration::from_secs(1), "{limited:?}");
    clock.advance(Duration::from_secs(1));
    assert!(limiter.check().is_ok());
}

#[test]
fn a_rate_limiter_near_the_end_of_the_clock_refuses() {
    let clock = ManualClock::new();
    clock.set(Duration::from_nanos(u64::MAX - 50_000_000));
    let limiter = RateLimiter::new(
        "clocks.rate_end",
        RateLimitConfig {
            limit: 10,
            per: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .unwrap()
    .with_clock(Arc::new(clock.clone()));
    let admitted = (0..10).filter(|_| limiter.check().is_ok()).count();
    assert_eq!(admitted, 0, "10 of 10 were admitted before");
}

#[test]
fn a_retry_budget_on_a_clock_set_back_refills_from_then() {
    let clock = ManualClock::new();
    clock.set(Duration::from_secs(1000));
    let budget = RetryBudget::new(
        BudgetConfig {
            capacity: 2,
            refill_per_second: 1.0,
            ..Default::default()
        },
        clock.clone(),
    )
    .unwrap();
    while budget.try_withdraw() {}
    clock.set(Duration::from_secs(10));
    assert!(!budget.try_withdraw());
    clock.advance(Duration::from_secs(2));
    // Before, nothing was credited until the clock was back at 1000 s.
    assert!(budget.try_withdraw(), "a token two seconds after the jump");
}

#[test]
fn a_breaker_on_a_clock_set_back_stays_open_one_recovery_timeout_at_most() {
    let clock = ManualClock::new();
    clock.set(Duration::from_secs(1000));
    let breaker = Breaker::new(
        "clocks.breaker",
        BreakerConfig {
            failure_threshold: 1,
            recovery_timeout: Duration::from_secs(5),
            ..Default::default()
        },
    )
    .unwrap()
    .with_clock(Arc::new(clock.clone()));
    breaker.acquire().unwrap().record_error(&"down", |_| true);
    assert_eq!(breaker.state(), BreakerState::Open);
    clock.set(Duration::from_secs(10));
    let open = breaker.acquire().unwrap_err();
    assert!(
        open.retry_after.unwrap() <= Duration::from_secs(5),
        "{open:?}"
    );
    clock.advance(Duration::from_secs(5));
    assert!(
        breaker.acquire().is_ok(),
        "a trial after one recovery timeout"
    );
}

#[test]
fn a_manual_clock_stops_at_the_end_of_its_range() {
    let clock = ManualClock::new();
    clock.advance(Duration::from_secs(10));
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        clock.now(),
        Duration::from_nanos(u64::MAX),
        "it wrapped before"
    );
}
