//! `#[circuit_breaker]` and `#[fallback]` as a user writes them, and the order of
//! stacked attributes proven by counting calls.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use resilience::{
    circuit_breaker, fallback, registry, retry, BreakerState, CircuitOpen, MarcusError,
};

#[derive(Debug, thiserror::Error, MarcusError)]
enum ServiceError {
    #[error("service down")]
    #[marcus(category = transient)]
    Down,
    #[error("not found")]
    #[marcus(category = business_logic)]
    NotFound,
    #[error(transparent)]
    CircuitOpen(#[from] CircuitOpen),
}

static DOWN: AtomicBool = AtomicBool::new(true);
static BODY_RUNS: AtomicU32 = AtomicU32::new(0);

fn not_found_is_fine(e: &ServiceError) -> bool {
    !matches!(e, ServiceError::NotFound)
}

#[circuit_breaker(name = "attr.basic", failure_threshold = 3, recovery_timeout = 30s, success_threshold = 1, record_if = not_found_is_fine)]
async fn call_service(missing: bool) -> Result<&'static str, ServiceError> {
    BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    if missing {
        return Err(ServiceError::NotFound);
    }
    if DOWN.load(Ordering::SeqCst) {
        Err(ServiceError::Down)
    } else {
        Ok("up")
    }
}

#[tokio::test(start_paused = true)]
async fn opens_rejects_without_running_the_body_and_recovers() {
    // Errors that `record_if` rejects never count.
    for _ in 0..5 {
        assert!(matches!(
            call_service(true).await,
            Err(ServiceError::NotFound)
        ));
    }
    let breaker = registry()
        .breaker("attr.basic")
        .expect("registered at first call");
    assert_eq!(breaker.state(), BreakerState::Closed);

    for _ in 0..3 {
        assert!(matches!(call_service(false).await, Err(ServiceError::Down)));
    }
    assert_eq!(breaker.state(), BreakerState::Open);

    let before = BODY_RUNS.load(Ordering::SeqCst);
    match call_service(false).await {
        Err(ServiceError::CircuitOpen(open)) => {
            assert_eq!(open.name, "attr.basic");
            assert!(open.retry_after() <= Some(Duration::from_secs(30)));
            assert!(!open.retryable());
            assert_eq!(open.code(), "CIRCUIT_OPEN_ERROR");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        BODY_RUNS.load(Ordering::SeqCst),
        before,
        "the body must not run while open"
    );

    tokio::time::advance(Duration::from_secs(31)).await;
    DOWN.store(false, Ordering::SeqCst);
    assert_eq!(call_service(false).await.unwrap(), "up");
    assert_eq!(breaker.state(), BreakerState::Closed);
}

static OUTER_RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "attr.breaker_outside", failure_threshold = 2)]
#[retry(max_attempts = 3, backoff = none)]
fn breaker_outside_retry() -> Result<(), ServiceError> {
    OUTER_RUNS.fetch_add(1, Ordering::SeqCst);
    Err(ServiceError::Down)
}

#[test]
fn breaker_written_first_counts_a_whole_retry_sequence_as_one_call() {
    assert!(matches!(breaker_outside_retry(), Err(ServiceError::Down)));
    assert_eq!(OUTER_RUNS.load(Ordering::SeqCst), 3);
    assert_eq!(
        registry().breaker("attr.breaker_outside").unwrap().state(),
        BreakerState::Closed
    );
    assert!(matches!(breaker_outside_retry(), Err(ServiceError::Down)));
    assert_eq!(OUTER_RUNS.load(Ordering::SeqCst), 6);
    assert_eq!(
        registry().breaker("attr.breaker_outside").unwrap().state(),
        BreakerState::Open
    );
    assert!(matches!(
        breaker_outside_retry(),
        Err(ServiceError::CircuitOpen(_))
    ));
    assert_eq!(OUTER_RUNS.load(Ordering::SeqCst), 6);
}

static INNER_RUNS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 5, backoff = none)]
#[circuit_breaker(name = "attr.retry_outside", failure_threshold = 2)]
fn retry_outside_breaker() -> Result<(), ServiceError> {
    INNER_RUNS.fetch_add(1, Ordering::SeqCst);
    Err(ServiceError::Down)
}

#[test]
fn retry_written_first_sends_each_attempt_through_the_breaker() {
    // Attempts 1 and 2 fail and open the breaker; attempt 3 is rejected, and a rejection
    // is not retryable, so the retry stops there.
    assert!(matches!(
        retry_outside_breaker(),
        Err(ServiceError::CircuitOpen(_))
    ));
    assert_eq!(INNER_RUNS.load(Ordering::SeqCst), 2);
}

fn cached_copy(id: u32) -> Result<String, ServiceError> {
    Ok(format!("cached {id}"))
}

fn also_down(_id: u32) -> Result<String, ServiceError> {
    Err(ServiceError::Down)
}

fn from_error(id: u32, error: ServiceError) -> Result<String, ServiceError> {
    Ok(format!("{id} after: {error}"))
}

static FALLBACK_STACK_RUNS: AtomicU32 = AtomicU32::new(0);

#[fallback(cached_copy)]
#[retry(max_attempts = 2, backoff = none)]
#[circuit_breaker(name = "attr.fallback_outside", failure_threshold = 1)]
fn guarded(id: u32) -> Result<String, ServiceError> {
    FALLBACK_STACK_RUNS.fetch_add(1, Ordering::SeqCst);
    Err(ServiceError::Down)
}

#[test]
fn fallback_written_first_answers_even_when_the_breaker_is_open() {
    assert_eq!(guarded(1).unwrap(), "cached 1");
    assert_eq!(FALLBACK_STACK_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(guarded(2).unwrap(), "cached 2");
    assert_eq!(
        FALLBACK_STACK_RUNS.load(Ordering::SeqCst),
        1,
        "open: the body did not run"
    );
}

#[fallback(also_down, cached_copy)]
fn chain(_id: u32) -> Result<String, ServiceError> {
    Err(ServiceError::Down)
}

#[fallback(also_down)]
fn all_fail(_id: u32) -> Result<String, ServiceError> {
    Err(ServiceError::NotFound)
}

#[fallback(from_error, with_error)]
fn with_the_error(_id: u32) -> Result<String, ServiceError> {
    Err(ServiceError::NotFound)
}

#[test]
fn fallbacks_are_tried_in_order_and_may_take_the_error() {
    assert_eq!(chain(4).unwrap(), "cached 4");
    assert!(
        matches!(all_fail(4), Err(ServiceError::Down)),
        "the last fallback's error comes back"
    );
    assert_eq!(with_the_error(5).unwrap(), "5 after: not found");
}

async fn cached_async(id: u32) -> Result<String, ServiceError> {
    Ok(format!("async cached {id}"))
}

#[fallback(cached_async)]
async fn async_primary(_id: u32) -> Result<String, ServiceError> {
    Err(ServiceError::Down)
}

#[tokio::test]
async fn async_fallbacks() {
    assert_eq!(async_primary(9).await.unwrap(), "async cached 9");
}

struct Client {
    healthy: bool,
}

impl Client {
    fn cached_get(&self, key: &str) -> Result<String, ServiceError> {
        Ok(format!("cache:{key}"))
    }

    #[fallback(cached_get)]
    fn get(&self, key: &str) -> Result<String, ServiceError> {
        if self.healthy {
            Ok(format!("live:{key}"))
        } else {
            Err(ServiceError::Down)
        }
    }
}

#[test]
fn method_fallbacks_receive_self() {
    assert_eq!(Client { healthy: true }.get("a").unwrap(), "live:a");
    assert_eq!(Client { healthy: false }.get("a").unwrap(), "cache:a");
}

#[circuit_breaker(name = "attr.panics", failure_threshold = 1)]
fn panics(should: bool) -> Result<(), ServiceError> {
    if should {
        panic!("boom");
    }
    Ok(())
}

#[test]
fn a_panic_counts_as_a_failure_and_unwinds_on() {
    assert!(panics(false).is_ok());
    let result = std::panic::catch_unwind(|| panics(true));
    assert!(result.is_err(), "the panic unwinds to the caller");
    assert_eq!(
        registry().breaker("attr.panics").unwrap().state(),
        BreakerState::Open
    );
}

#[circuit_breaker(name = "attr.dropped", failure_threshold = 1, recovery_timeout = 1s)]
async fn slow_trial(gate: &tokio::sync::Notify, fail: bool) -> Result<(), ServiceError> {
    if fail {
        return Err(ServiceError::Down);
    }
    gate.notified().await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_dropped_trial_gives_its_half_open_place_back() {
    let gate = tokio::sync::Notify::new();
    slow_trial(&gate, true).await.unwrap_err();
    let breaker = registry().breaker("attr.dropped").unwrap();
    assert_eq!(breaker.state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(2)).await;

    // The trial starts, then its future is dropped mid-flight.
    let timed_out = tokio::time::timeout(Duration::from_millis(10), slow_trial(&gate, false)).await;
    assert!(timed_out.is_err());

    // Its place was given back: a new trial gets through and closes the breaker.
    gate.notify_one();
    slow_trial(&gate, false).await.unwrap();
}
