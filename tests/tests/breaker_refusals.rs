//! A breaker counts its dependency's faults, not this crate's own refusals from layers
//! inside it (API section 10), nor the caller's mistakes (API section 2's default of
//! `record_if`): load shedding and a 404 never open a circuit.

use std::sync::LazyLock;
use std::time::Duration;

use resilience::registry::Registry;
use resilience::{
    bulkhead, circuit_breaker, resilient, BreakerState, BulkheadFull, CircuitOpen, MarcusError,
    RateLimited,
};

static REG: LazyLock<Registry> = LazyLock::new(Registry::new);

#[derive(Debug, thiserror::Error, MarcusError)]
enum ApiError {
    #[error("order {0} not found")]
    #[marcus(category = business_logic)]
    NotFound(u64),
    #[error("upstream down")]
    #[marcus(category = integration)]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
}

#[resilient(
    name = "refusals.resilient",
    failure_threshold = 3,
    limit = 2,
    per = 10s,
    max_attempts = 1,
    registry = REG
)]
fn limited() -> Result<u32, ApiError> {
    Ok(1)
}

#[test]
fn a_rate_limit_inside_a_breaker_never_opens_it() {
    let outcomes: Vec<&str> = (0..6)
        .map(|_| match limited() {
            Ok(_) => "ok",
            Err(ApiError::Limited(_)) => "rate limited",
            Err(ApiError::Open(_)) => "circuit open",
            Err(other) => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "ok",
            "ok",
            "rate limited",
            "rate limited",
            "rate limited",
            "rate limited"
        ]
    );
    let snapshot = REG
        .breaker("refusals.resilient")
        .expect("registered")
        .snapshot();
    assert_eq!(snapshot.state, BreakerState::Closed);
    assert_eq!(snapshot.consecutive_failures, 0);
    assert_eq!(snapshot.failures_in_window, 0);
    assert_eq!(snapshot.times_opened, 0);
}

#[circuit_breaker(name = "refusals.bulkhead", failure_threshold = 2, registry = REG)]
#[bulkhead(name = "refusals.bulkhead.inner", max_concurrent = 1, registry = REG)]
async fn one_at_a_time() -> Result<u32, ApiError> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(7)
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_inside_a_breaker_never_opens_it() {
    let mut refused = 0;
    for _round in 0..5 {
        let calls = (0..4).map(|_| tokio::spawn(one_at_a_time()));
        for call in calls.collect::<Vec<_>>() {
            match call.await.expect("no panic") {
                Ok(7) => {}
                Err(ApiError::Full(_)) => refused += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(refused >= 5, "the bulkhead refused some calls: {refused}");
    let snapshot = REG
        .breaker("refusals.bulkhead")
        .expect("registered")
        .snapshot();
    assert_eq!(snapshot.state, BreakerState::Closed);
    assert_eq!(snapshot.consecutive_failures, 0);
    assert_eq!(snapshot.times_opened, 0);
}

#[circuit_breaker(name = "refusals.not_found", failure_threshold = 2, registry = REG)]
fn find(id: u64) -> Result<u32, ApiError> {
    if id == 0 {
        Err(ApiError::Down)
    } else {
        Err(ApiError::NotFound(id))
    }
}

#[test]
fn a_business_error_does_not_open_a_breaker_by_default() {
    for id in 1..=5 {
        assert!(matches!(find(id), Err(ApiError::NotFound(_))));
    }
    let breaker = REG.breaker("refusals.not_found").expect("registered");
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.snapshot().consecutive_failures, 0);
    // A dependency's fault still counts.
    assert!(matches!(find(0), Err(ApiError::Down)));
    assert!(matches!(find(0), Err(ApiError::Down)));
    assert_eq!(breaker.state(), BreakerState::Open);
    assert!(matches!(find(1), Err(ApiError::Open(_))));
}

fn every_error_counts(_: &ApiError) -> bool {
    true
}

#[circuit_breaker(
    name = "refusals.record_if",
    failure_threshold = 2,
    record_if = every_error_counts,
    registry = REG
)]
fn find_counted(id: u64) -> Result<u32, ApiError> {
    Err(ApiError::NotFound(id))
}

#[test]
fn record_if_still_decides_when_given() {
    assert!(find_counted(1).is_err());
    assert!(find_counted(2).is_err());
    let breaker = REG.breaker("refusals.record_if").expect("registered");
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[circuit_breaker(name = "refusals.outer", failure_threshold = 1, registry = REG)]
#[circuit_breaker(name = "refusals.inner", failure_threshold = 1, recovery_timeout = 60s, registry = REG)]
fn nested(fail: bool) -> Result<u32, ApiError> {
    if fail {
        Err(ApiError::Down)
    } else {
        Ok(1)
    }
}

#[test]
fn an_inner_breakers_refusal_is_not_the_outer_ones_failure() {
    // The first failure opens both (threshold 1): the outer breaker counted the body's
    // error once. Open it apart instead: the inner opens, the outer is reset.
    assert!(nested(true).is_err());
    let outer = REG.breaker("refusals.outer").expect("registered");
    let inner = REG.breaker("refusals.inner").expect("registered");
    assert_eq!(inner.state(), BreakerState::Open);
    outer.reset();
    for _ in 0..3 {
        assert!(
            matches!(nested(false), Err(ApiError::Open(open)) if open.name == "refusals.inner")
        );
    }
    assert_eq!(outer.state(), BreakerState::Closed);
    assert_eq!(outer.snapshot().consecutive_failures, 0);
}
