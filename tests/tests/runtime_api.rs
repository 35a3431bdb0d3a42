//! Issue 16, item 15: what tests needed and lacked: direct transitions, the rates in
//! snapshots, an async `Breaker::call`, one clock argument type, and a call site's
//! adapted `max_attempts`. Item 7: what a parent's states do to its child.

use std::sync::Arc;
use std::time::Duration;

use resilience::breaker::Breaker;
use resilience::clock::{Clock, ManualClock};
use resilience::monitor::Monitor;
use resilience::recovery::Recovery;
use resilience::registry::Registry;
use resilience::retry::{self, BudgetConfig, RetryBudget};
use resilience::{BreakerConfig, BreakerState, CircuitOpen};

#[derive(Debug)]
enum CallError {
    Down,
    Open(CircuitOpen),
}

impl From<CircuitOpen> for CallError {
    fn from(open: CircuitOpen) -> Self {
        CallError::Open(open)
    }
}

#[test]
fn direct_transitions_to_open_and_half_open() {
    let clock = ManualClock::new();
    let b = Breaker::new(
        "fixes.api.transitions",
        BreakerConfig {
            recovery_timeout: Duration::from_secs(10),
            success_threshold: 1,
            ..Default::default()
        },
    )
    .unwrap()
    .with_clock(clock.clone());
    b.transition_to_open();
    assert_eq!(b.state(), BreakerState::Open);
    let open = b.acquire().unwrap_err();
    assert_eq!(open.retry_after, Some(Duration::from_secs(10)));
    clock.advance(Duration::from_secs(10));
    assert!(
        b.acquire().unwrap().is_trial(),
        "a trial after the recovery timeout"
    );

    b.transition_to_half_open();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    let trial = b.acquire().unwrap();
    assert!(trial.is_trial());
    assert!(b.acquire().is_err(), "one trial place");
    trial.record_failure();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn snapshots_carry_the_failure_and_slow_call_percentages() {
    let b = Breaker::new(
        "fixes.api.rates",
        BreakerConfig {
            failure_rate: Some(90.0),
            minimum_calls: 4,
            window_size: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let s = b.snapshot();
    assert_eq!(
        (s.failure_rate_percent, s.slow_call_rate_percent),
        (None, None)
    );
    b.acquire().unwrap().record_failure();
    for _ in 0..3 {
        b.acquire().unwrap().record_success();
    }
    let s = b.snapshot();
    assert_eq!(s.failure_rate_percent, Some(25.0));
    assert_eq!(s.slow_call_rate_percent, Some(0.0));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["failure_rate_percent"], 25.0);
}

#[tokio::test]
async fn breaker_call_async_counts_and_refuses() {
    let b = Breaker::new(
        "fixes.api.async",
        BreakerConfig {
            failure_threshold: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        b.call_async(async { Ok::<_, CallError>(1) }).await.unwrap(),
        1
    );
    for _ in 0..2 {
        let r = b.call_async(async { Err::<u32, _>(CallError::Down) }).await;
        assert!(matches!(r, Err(CallError::Down)));
    }
    let mut polled = false;
    let r = b
        .call_async(async {
            polled = true;
            Ok::<_, CallError>(2)
        })
        .await;
    assert!(matches!(r, Err(CallError::Open(ref open)) if open.name == "fixes.api.async"));
    assert!(!polled, "refused without running");
}

#[test]
fn every_constructor_takes_the_same_clock_argument() {
    // One value, of one type, fits each of them, as does a plain `ManualClock`.
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let _ = Registry::with_clock(clock.clone());
    let _ = Recovery::with_clock(clock.clone());
    let _ = Monitor::default().with_clock(clock.clone());
    let _ = Breaker::new("fixes.api.clock", BreakerConfig::default())
        .unwrap()
        .with_clock(clock.clone());
    let budget = RetryBudget::new(BudgetConfig::default(), clock.clone()).unwrap();
    assert_eq!(budget.available(), 100);
    let manual = ManualClock::new();
    let _ = Registry::with_clock(manual.clone());
    let _ = Recovery::with_clock(manual.clone());
    let _ = Monitor::default().with_clock(manual.clone());
    let _ = RetryBudget::new(BudgetConfig::default(), manual).unwrap();
}

#[resilience::retry(max_attempts = 4, adaptive = true, backoff = none)]
fn adaptive_site(fail: bool) -> Result<(), std::io::Error> {
    if fail {
        Err(std::io::ErrorKind::TimedOut.into())
    } else {
        Ok(())
    }
}

#[test]
fn a_call_sites_adapted_max_attempts_can_be_read() {
    let name = "runtime_api::adaptive_site";
    assert_eq!(retry::adapted_max_attempts(name), None, "not called yet");
    adaptive_site(false).unwrap();
    assert_eq!(retry::adapted_max_attempts(name), Some(4));
    // Calls that give up lower the limit (the reference's adaptive retry).
    for _ in 0..20 {
        let _ = adaptive_site(true);
    }
    let adapted = retry::adapted_max_attempts(name).unwrap();
    assert!(adapted < 4, "adapted down to {adapted}");
}

#[test]
fn a_half_open_parent_or_one_past_its_timeout_lets_children_through() {
    let clock = ManualClock::new();
    let reg = Registry::with_clock(clock.clone());
    let parent = reg
        .register(
            "fixes.parent",
            BreakerConfig {
                recovery_timeout: Duration::from_secs(5),
                ..Default::default()
            },
        )
        .unwrap();
    let child = reg
        .register(
            "fixes.parent.child",
            BreakerConfig {
                parent: Some("fixes.parent".into()),
                ..Default::default()
            },
        )
        .unwrap();
    parent.transition_to_open();
    let refused = child.acquire().unwrap_err();
    assert_eq!(refused.name, "fixes.parent", "the refusal names the parent");
    clock.advance(Duration::from_secs(5));
    child
        .acquire()
        .expect("parent past its recovery timeout")
        .record_success();
    assert_eq!(
        parent.state(),
        BreakerState::Open,
        "the child took no trial of the parent's"
    );
    parent.transition_to_half_open();
    child.acquire().expect("parent half-open").record_success();
    parent.force_open();
    assert!(child.acquire().is_err(), "a forced-open parent refuses");
}
