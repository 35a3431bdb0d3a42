//! `#[resilient]`, `#[timeout]` and `#[fallback(.., cached)]` as a user writes them.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use resilience::{
    fallback, registry, resilient, retry, timeout, BreakerState, CircuitOpen, MarcusError, TimedOut,
};

#[derive(Debug, thiserror::Error, MarcusError)]
enum CallError {
    #[error("upstream failed")]
    #[marcus(category = transient)]
    Upstream,
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
    #[error(transparent)]
    CircuitOpen(#[from] CircuitOpen),
}

static RESILIENT_RUNS: AtomicU32 = AtomicU32::new(0);

#[resilient(max_attempts = 3, backoff = none, name = "toolbox.resilient", failure_threshold = 2)]
fn resilient_call() -> Result<(), CallError> {
    RESILIENT_RUNS.fetch_add(1, Ordering::SeqCst);
    Err(CallError::Upstream)
}

#[test]
fn resilient_is_retry_outside_a_breaker() {
    // Each attempt goes through the breaker: two failures open it, the third attempt is
    // rejected, and a rejection is not retried.
    assert!(matches!(resilient_call(), Err(CallError::CircuitOpen(_))));
    assert_eq!(RESILIENT_RUNS.load(Ordering::SeqCst), 2);
    assert_eq!(
        registry().breaker("toolbox.resilient").unwrap().state(),
        BreakerState::Open
    );
}

#[timeout(100ms)]
async fn slow(delay: Duration) -> Result<&'static str, CallError> {
    tokio::time::sleep(delay).await;
    Ok("done")
}

#[tokio::test(start_paused = true)]
async fn a_call_past_its_timeout_is_dropped_and_reported() {
    assert_eq!(slow(Duration::from_millis(50)).await.unwrap(), "done");
    let start = tokio::time::Instant::now();
    match slow(Duration::from_secs(60)).await {
        Err(CallError::TimedOut(t)) => {
            assert_eq!(t.limit, Duration::from_millis(100));
            assert!(t.function.ends_with("slow"));
            assert!(t.retryable());
            assert_eq!(t.code(), "TIMED_OUT_ERROR");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

static TIMEOUT_RUNS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = none)]
#[timeout(1s)]
async fn retried_timeout() -> Result<u32, CallError> {
    let n = TIMEOUT_RUNS.fetch_add(1, Ordering::SeqCst);
    if n < 2 {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    Ok(n)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_transient_so_a_retry_tries_again() {
    let start = tokio::time::Instant::now();
    assert_eq!(retried_timeout().await.unwrap(), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

static HEALTHY: AtomicBool = AtomicBool::new(true);

fn also_fails(_id: u32) -> Result<String, CallError> {
    Err(CallError::Upstream)
}

#[fallback(also_fails, cached)]
fn price(id: u32) -> Result<String, CallError> {
    if HEALTHY.load(Ordering::SeqCst) {
        Ok(format!("price of {id}"))
    } else {
        Err(CallError::Upstream)
    }
}

#[test]
fn cached_returns_the_last_success_when_every_fallback_fails() {
    HEALTHY.store(false, Ordering::SeqCst);
    assert!(
        matches!(price(1), Err(CallError::Upstream)),
        "nothing cached yet"
    );
    HEALTHY.store(true, Ordering::SeqCst);
    assert_eq!(price(2).unwrap(), "price of 2");
    HEALTHY.store(false, Ordering::SeqCst);
    assert_eq!(price(3).unwrap(), "price of 2");
}

static PARENT_DOWN: AtomicBool = AtomicBool::new(true);
static CHILD_RUNS: AtomicU32 = AtomicU32::new(0);

#[resilience::circuit_breaker(name = "toolbox.kanban", failure_threshold = 1, recovery_timeout = 1h)]
fn kanban_root() -> Result<(), CallError> {
    if PARENT_DOWN.load(Ordering::SeqCst) {
        Err(CallError::Upstream)
    } else {
        Ok(())
    }
}

#[resilience::circuit_breaker(name = "toolbox.kanban.boards", parent = "toolbox.kanban")]
fn kanban_boards() -> Result<u32, CallError> {
    CHILD_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(7)
}

#[test]
fn a_child_breaker_rejects_while_its_parent_is_open() {
    assert_eq!(kanban_boards().unwrap(), 7);
    kanban_root().unwrap_err();
    assert_eq!(
        registry().breaker("toolbox.kanban").unwrap().state(),
        BreakerState::Open
    );
    match kanban_boards() {
        Err(CallError::CircuitOpen(open)) => assert_eq!(open.name, "toolbox.kanban"),
        other => panic!("expected the parent's rejection, got {other:?}"),
    }
    assert_eq!(
        CHILD_RUNS.load(Ordering::SeqCst),
        1,
        "the child's body did not run"
    );
    let child = registry()
        .breakers()
        .into_iter()
        .find(|b| b.name == "toolbox.kanban.boards")
        .unwrap();
    assert_eq!(child.parent.as_deref(), Some("toolbox.kanban"));

    registry().breaker("toolbox.kanban").unwrap().reset();
    assert_eq!(kanban_boards().unwrap(), 7);
}

static RECOMMENDATION_RUNS: AtomicU32 = AtomicU32::new(0);

#[resilience::feature_switch("toolbox.recommendations")]
fn recommendations(user: u32) -> Result<Vec<String>, CallError> {
    RECOMMENDATION_RUNS.fetch_add(1, Ordering::SeqCst);
    if user == 0 {
        return Err(CallError::Upstream);
    }
    Ok(vec![format!("for {user}")])
}

#[test]
fn a_disabled_feature_answers_its_fallback_without_running_and_failures_disable_it() {
    let switches = resilience::degradation();
    switches.register("toolbox.recommendations", vec!["popular".to_string()]);
    assert_eq!(recommendations(1).unwrap(), vec!["for 1".to_string()]);

    switches.disable("toolbox.recommendations");
    let runs = RECOMMENDATION_RUNS.load(Ordering::SeqCst);
    assert_eq!(recommendations(2).unwrap(), vec!["popular".to_string()]);
    assert_eq!(
        RECOMMENDATION_RUNS.load(Ordering::SeqCst),
        runs,
        "the body did not run"
    );

    switches.enable("toolbox.recommendations");
    for _ in 0..3 {
        // A failure of an enabled feature answers with the fallback, and counts.
        assert_eq!(recommendations(0).unwrap(), vec!["popular".to_string()]);
    }
    assert!(
        !switches.is_enabled("toolbox.recommendations"),
        "three failures in a row disable it"
    );
    assert_eq!(recommendations(5).unwrap(), vec!["popular".to_string()]);

    let health = serde_json::to_value(registry().health()).unwrap();
    let features = health["features"]["features"].as_array().unwrap();
    assert!(features
        .iter()
        .any(|f| f["name"] == "toolbox.recommendations" && f["enabled"] == false));
}
