//! `registry = STATIC`: an attribute pointed at a registry of its own, as a test points
//! it at a `Registry::with_clock(ManualClock)`. Every pattern that registers lives there
//! and not in the global registry, and follows that registry's clock, policies and
//! budgets.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

use resilience::clock::ManualClock;
use resilience::registry::Registry;
use resilience::retry::Backoff;
use resilience::{
    bulkhead, circuit_breaker, hedge, rate_limit, registry, resilient, retry, BreakerState,
    BulkheadFull, CircuitOpen, RateLimited, RetryConfig,
};

#[derive(Debug, thiserror::Error, PartialEq)]
enum Failure {
    #[error("down")]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
}

static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static REG: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(CLOCK.clone()));

#[circuit_breaker(
    registry = REG,
    name = "attr.registry.breaker",
    failure_threshold = 1,
    success_threshold = 1,
    recovery_timeout = 10s
)]
fn guarded(fail: bool) -> Result<u32, Failure> {
    if fail {
        Err(Failure::Down)
    } else {
        Ok(1)
    }
}

#[test]
fn a_breaker_lives_in_its_registry_and_recovers_on_its_clock() {
    assert_eq!(guarded(true), Err(Failure::Down));
    let breaker = REG.breaker("attr.registry.breaker").expect("in REG");
    assert_eq!(breaker.state(), BreakerState::Open);
    assert!(registry().breaker("attr.registry.breaker").is_none());
    assert!(matches!(guarded(false), Err(Failure::Open(_))));
    // Only the registry's clock moves the recovery: ten seconds on it, none for real.
    CLOCK.advance(Duration::from_secs(10));
    assert_eq!(guarded(false), Ok(1));
    assert_eq!(breaker.state(), BreakerState::Closed);
}

static LIMIT_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static LIMIT_REG: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(LIMIT_CLOCK.clone()));

#[rate_limit(registry = LIMIT_REG, name = "attr.registry.limit", limit = 1, per = 1s)]
fn limited() -> Result<u32, Failure> {
    Ok(2)
}

#[test]
fn a_rate_limit_lives_in_its_registry_and_refills_on_its_clock() {
    assert_eq!(limited(), Ok(2));
    assert!(matches!(limited(), Err(Failure::Limited(_))));
    assert!(LIMIT_REG.rate_limiter("attr.registry.limit").is_some());
    assert!(registry().rate_limiter("attr.registry.limit").is_none());
    LIMIT_CLOCK.advance(Duration::from_secs(1));
    assert_eq!(limited(), Ok(2));
}

static POLICY_REG: LazyLock<Registry> = LazyLock::new(|| {
    let reg = Registry::new();
    reg.configure_retry(
        "attr.registry.policy",
        RetryConfig {
            max_attempts: 4,
            backoff: Backoff::None,
            ..Default::default()
        },
    )
    .expect("a valid policy");
    reg
});

static POLICY_CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(policy = "attr.registry.policy", registry = POLICY_REG)]
fn by_policy() -> Result<u32, std::io::Error> {
    POLICY_CALLS.fetch_add(1, Ordering::SeqCst);
    Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"))
}

#[test]
fn a_retry_follows_its_registrys_policy_not_the_global_one() {
    assert!(by_policy().is_err());
    assert_eq!(POLICY_CALLS.load(Ordering::SeqCst), 4);
    assert_eq!(registry().retry_policy("attr.registry.policy"), None);
}

static BUDGET_REG: LazyLock<Registry> = LazyLock::new(Registry::new);

#[retry(max_attempts = 3, backoff = none, budget = "attr.registry.budget", registry = BUDGET_REG)]
fn with_budget() -> Result<u32, std::io::Error> {
    Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"))
}

#[test]
fn a_retry_draws_from_its_registrys_budget() {
    assert!(with_budget().is_err());
    // Two retries drawn from the registry's bucket of 100; the global one never made.
    assert_eq!(
        BUDGET_REG.retry_budget("attr.registry.budget").available(),
        98
    );
    assert!(!resilience::retry_budgets()
        .iter()
        .any(|b| b.name.as_deref() == Some("attr.registry.budget")));
}

static PATTERNS_REG: LazyLock<Registry> = LazyLock::new(Registry::new);

#[bulkhead(registry = PATTERNS_REG, name = "attr.registry.bulkhead", max_concurrent = 1)]
fn in_bulkhead() -> Result<u32, Failure> {
    Ok(3)
}

#[hedge(registry = PATTERNS_REG, name = "attr.registry.hedge", delay = 10ms)]
async fn hedged() -> Result<u32, Failure> {
    Ok(4)
}

#[resilient(
    registry = PATTERNS_REG,
    name = "attr.registry.resilient",
    max_attempts = 2,
    failure_threshold = 3,
    max_concurrent = 2
)]
fn resilient_call() -> Result<u32, Failure> {
    Ok(5)
}

#[tokio::test(start_paused = true)]
async fn every_pattern_registers_where_its_attribute_says() {
    assert_eq!(in_bulkhead(), Ok(3));
    assert_eq!(hedged().await, Ok(4));
    assert_eq!(resilient_call(), Ok(5));
    for found in [
        PATTERNS_REG.bulkhead("attr.registry.bulkhead").is_some(),
        PATTERNS_REG.hedge("attr.registry.hedge").is_some(),
        PATTERNS_REG.breaker("attr.registry.resilient").is_some(),
        PATTERNS_REG.bulkhead("attr.registry.resilient").is_some(),
    ] {
        assert!(found);
    }
    for leaked in [
        registry().bulkhead("attr.registry.bulkhead").is_some(),
        registry().hedge("attr.registry.hedge").is_some(),
        registry().breaker("attr.registry.resilient").is_some(),
        registry().bulkhead("attr.registry.resilient").is_some(),
    ] {
        assert!(!leaked);
    }
}
