//! Fault injection (`resilience::chaos`) through the attributes: seeded rates, latency on
//! paused time, `clear`, refused injections, and injected errors seen by `#[retry]` and
//! counted by a breaker; faults named as a bulkhead, rate limiter or adaptive limit, and
//! per run of a hedged call.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use resilience::chaos::{chaos, ChaosError, Fault};
use resilience::{
    adaptive_limit, bulkhead, circuit_breaker, error_context, hedge, rate_limit, registry, retry,
    BreakerState, BulkheadFull, CircuitOpen, InjectedFault, MarcusError, Overloaded, Priority,
    RateLimited,
};

/// The fault table and its seed are process-wide: these tests take turns.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Not retryable by itself (business logic); its injected variant answers as the fault.
#[derive(Debug, thiserror::Error, resilience::MarcusError)]
#[marcus(category = business_logic)]
enum AppError {
    #[error("refused by the business rules")]
    Refused,
    #[error(transparent)]
    #[marcus(transparent)]
    Injected(#[from] InjectedFault),
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
}

static RATED_RUNS: AtomicU32 = AtomicU32::new(0);

#[error_context("rated")]
fn rated() -> Result<u32, AppError> {
    Ok(RATED_RUNS.fetch_add(1, Ordering::Relaxed))
}

const RATED: &str = concat!(module_path!(), "::rated");

fn outcomes(calls: usize) -> Vec<bool> {
    (0..calls).map(|_| rated().is_err()).collect()
}

#[test]
fn error_rate_is_within_five_points_over_2000_seeded_calls_and_repeats() {
    let _serial = serial();
    chaos().seed(2026);
    chaos().inject(RATED, Fault::error(0.3)).unwrap();
    let runs_before = RATED_RUNS.load(Ordering::Relaxed);
    let first = outcomes(2000);
    let failed = first.iter().filter(|f| **f).count();
    let share = failed as f64 / 2000.0;
    assert!(
        (share - 0.3).abs() < 0.05,
        "share of injected errors {share}"
    );
    // An injected error does not run the body.
    assert_eq!(
        RATED_RUNS.load(Ordering::Relaxed) - runs_before,
        (2000 - failed) as u32
    );
    let snap = chaos().snapshot();
    let fault = snap.faults.iter().find(|f| f.site == RATED).unwrap();
    assert_eq!((fault.calls, fault.injected), (2000, failed as u64));

    // The same seed hits the same calls.
    chaos().seed(2026);
    assert_eq!(outcomes(2000), first);
    chaos().seed(2027);
    assert_ne!(outcomes(2000), first);
    chaos().clear(RATED);
}

#[test]
fn clear_restores_the_function() {
    let _serial = serial();
    chaos().inject(RATED, Fault::error(1.0)).unwrap();
    let err = rated().unwrap_err();
    assert!(matches!(err, AppError::Injected(ref f) if f.site() == RATED));
    assert_eq!(err.code(), "INJECTED_FAULT");
    chaos().clear(RATED);
    assert!(rated().is_ok());
    assert!(chaos().snapshot().faults.iter().all(|f| f.site != RATED));
}

#[error_context("slow")]
async fn slow() -> Result<(), AppError> {
    Ok(())
}

#[tokio::test(start_paused = true)]
// Each test runs on its own runtime; the lock only orders the tests.
#[allow(clippy::await_holding_lock)]
async fn latency_is_exact_on_paused_time() {
    let _serial = serial();
    let name = concat!(module_path!(), "::slow");
    chaos()
        .inject(name, Fault::latency(1.0, Duration::from_millis(250)))
        .unwrap();
    let start = tokio::time::Instant::now();
    slow().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    chaos().clear(name);
    let start = tokio::time::Instant::now();
    slow().await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[error_context("slow sync")]
fn slow_sync() -> Result<(), AppError> {
    Ok(())
}

#[test]
fn a_sync_call_sleeps_on_its_thread() {
    let _serial = serial();
    let name = concat!(module_path!(), "::slow_sync");
    chaos()
        .inject(name, Fault::latency(1.0, Duration::from_millis(30)))
        .unwrap();
    let start = std::time::Instant::now();
    slow_sync().unwrap();
    assert!(start.elapsed() >= Duration::from_millis(30));
    chaos().clear(name);
}

/// Its error type has no `From<InjectedFault>`.
#[error_context("plain")]
fn plain() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_error_fault_on_a_site_without_from_injected_fault_is_refused() {
    let _serial = serial();
    let name = concat!(module_path!(), "::plain");
    // Not seen yet: accepted, then refused when the site appears (it runs as written).
    chaos().inject(name, Fault::error(1.0)).unwrap();
    assert_eq!(plain(), Ok(()));
    let snap = chaos().snapshot();
    let fault = snap.faults.iter().find(|f| f.site == name).unwrap();
    assert!(fault
        .refused
        .as_deref()
        .unwrap()
        .contains("From<resilience::InjectedFault>"));
    assert!(snap.sites.iter().any(|s| s.name == name && !s.takes_error));
    // Known now: refused at once, naming the site.
    let err = chaos().inject(name, Fault::error(0.5)).unwrap_err();
    assert!(matches!(err, ChaosError::Refused { ref site, fault: "error", .. } if site == name));
    assert!(err.to_string().contains(name), "{err}");
    // Latency needs no conversion; a refusal needs a breaker.
    chaos()
        .inject(name, Fault::latency(0.5, Duration::from_millis(1)))
        .unwrap();
    assert!(chaos().inject(name, Fault::refusal(0.5)).is_err());
    chaos().clear(name);
}

#[test]
fn a_bad_rate_is_an_error_naming_it() {
    let err = chaos().inject("chaos.bad", Fault::error(1.5)).unwrap_err();
    let ChaosError::Invalid(invalid) = err else {
        panic!("{err:?}")
    };
    assert_eq!((invalid.field(), invalid.value()), ("rate", "1.5"));
}

static STACK_RUNS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none)]
#[circuit_breaker(name = "chaos.stack", failure_threshold = 3, recovery_timeout = 60s)]
async fn stacked() -> Result<(), AppError> {
    STACK_RUNS.fetch_add(1, Ordering::Relaxed);
    Err(AppError::Refused)
}

#[tokio::test(start_paused = true)]
// Each test runs on its own runtime; the lock only orders the tests.
#[allow(clippy::await_holding_lock)]
async fn injected_errors_are_retried_as_transient_and_counted_by_the_breaker() {
    let _serial = serial();
    let name = concat!(module_path!(), "::stacked");
    // The body's own error is business logic: not retried, one run.
    assert!(matches!(stacked().await, Err(AppError::Refused)));
    assert_eq!(STACK_RUNS.load(Ordering::Relaxed), 1);
    registry().breaker("chaos.stack").unwrap().reset();

    chaos().inject(name, Fault::error(1.0)).unwrap();
    let start = tokio::time::Instant::now();
    let err = stacked().await.unwrap_err();
    assert!(matches!(err, AppError::Injected(_)), "{err:?}");
    // Three attempts (two waits of 10ms), none of which ran the body.
    assert_eq!(start.elapsed(), Duration::from_millis(20));
    assert_eq!(STACK_RUNS.load(Ordering::Relaxed), 1);
    let breaker = registry().breaker("chaos.stack").unwrap();
    assert_eq!(breaker.state(), BreakerState::Open);
    chaos().clear(name);
    // Open: refused without running.
    assert!(matches!(stacked().await, Err(AppError::Open(_))));
    assert_eq!(STACK_RUNS.load(Ordering::Relaxed), 1);
    breaker.reset();
}

static GUARDED_RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "chaos.guarded", failure_threshold = 2, recovery_timeout = 60s)]
fn guarded() -> Result<(), AppError> {
    GUARDED_RUNS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[test]
fn a_fault_named_as_the_breaker_applies_to_its_calls() {
    let _serial = serial();
    let breaker = || registry().breaker("chaos.guarded").unwrap();
    guarded().unwrap();
    assert_eq!(GUARDED_RUNS.load(Ordering::Relaxed), 1);

    // A refusal returns the breaker's CircuitOpen without counting against it.
    chaos()
        .inject("chaos.guarded", Fault::refusal(1.0))
        .unwrap();
    for _ in 0..5 {
        let err = guarded().unwrap_err();
        assert!(matches!(err, AppError::Open(ref open) if open.name == "chaos.guarded"));
    }
    assert_eq!(breaker().state(), BreakerState::Closed);
    assert_eq!(breaker().snapshot().consecutive_failures, 0);
    assert_eq!(GUARDED_RUNS.load(Ordering::Relaxed), 1);

    // An error is counted: two open it.
    chaos().clear("chaos.guarded");
    chaos().inject("chaos.guarded", Fault::error(1.0)).unwrap();
    assert!(matches!(guarded(), Err(AppError::Injected(_))));
    assert!(matches!(guarded(), Err(AppError::Injected(_))));
    assert_eq!(breaker().state(), BreakerState::Open);
    chaos().clear("chaos.guarded");
    assert_eq!(GUARDED_RUNS.load(Ordering::Relaxed), 1);
    breaker().reset();
    guarded().unwrap();
    assert_eq!(GUARDED_RUNS.load(Ordering::Relaxed), 2);

    // The health report carries the table.
    chaos().inject("chaos.guarded", Fault::error(0.5)).unwrap();
    let health = serde_json::to_value(registry().health()).unwrap();
    assert!(health["chaos"]["faults"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["site"] == "chaos.guarded" && f["fault"] == "error" && f["rate"] == 0.5));
    chaos().clear("chaos.guarded");
}

static HELD_RUNS: AtomicU32 = AtomicU32::new(0);

#[bulkhead(name = "chaos.bulkhead", max_concurrent = 4)]
fn held() -> Result<(), AppError> {
    HELD_RUNS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[test]
fn a_refusal_named_as_a_bulkhead_returns_bulkhead_full_without_running() {
    let _serial = serial();
    held().unwrap();
    assert_eq!(HELD_RUNS.load(Ordering::Relaxed), 1);
    chaos()
        .inject("chaos.bulkhead", Fault::refusal(1.0))
        .unwrap();
    for _ in 0..3 {
        let err = held().unwrap_err();
        let AppError::Full(full) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (full.name, full.key, full.max_concurrent, full.waited),
            ("chaos.bulkhead", None, 4, Duration::ZERO)
        );
    }
    assert_eq!(HELD_RUNS.load(Ordering::Relaxed), 1);
    // Not counted as the bulkhead's own refusals, and its place is given back.
    let bulkhead = registry().bulkhead("chaos.bulkhead").unwrap();
    assert_eq!(bulkhead.snapshot().rejections, 0);
    assert_eq!(bulkhead.in_flight(), 0);
    let snap = chaos().snapshot();
    let fault = snap
        .faults
        .iter()
        .find(|f| f.site == "chaos.bulkhead")
        .unwrap();
    assert_eq!((fault.calls, fault.injected), (3, 3));
    assert!(snap
        .sites
        .iter()
        .any(|s| s.name == "chaos.bulkhead" && s.takes_error));
    chaos().clear("chaos.bulkhead");
    held().unwrap();
    assert_eq!(HELD_RUNS.load(Ordering::Relaxed), 2);
}

#[test]
fn an_error_named_as_a_bulkhead_or_its_function_is_returned_without_running() {
    let _serial = serial();
    let runs = HELD_RUNS.load(Ordering::Relaxed);
    chaos().inject("chaos.bulkhead", Fault::error(1.0)).unwrap();
    let err = held().unwrap_err();
    assert!(
        matches!(err, AppError::Injected(ref f) if f.site() == "chaos.bulkhead"),
        "{err:?}"
    );
    chaos().clear("chaos.bulkhead");
    // The bulkhead is the innermost layer: its gate draws the function's faults too.
    let name = concat!(module_path!(), "::held");
    chaos().inject(name, Fault::error(1.0)).unwrap();
    let err = held().unwrap_err();
    assert!(
        matches!(err, AppError::Injected(ref f) if f.site() == name),
        "{err:?}"
    );
    chaos().clear(name);
    assert_eq!(HELD_RUNS.load(Ordering::Relaxed), runs);
    assert_eq!(
        registry().bulkhead("chaos.bulkhead").unwrap().in_flight(),
        0
    );
    held().unwrap();
    assert_eq!(HELD_RUNS.load(Ordering::Relaxed), runs + 1);
}

static ADAPTIVE_RUNS: AtomicU32 = AtomicU32::new(0);

#[adaptive_limit(name = "chaos.adaptive", initial_limit = 4, priority = priority)]
fn adapted(priority: Priority) -> Result<(), AppError> {
    let _ = priority;
    ADAPTIVE_RUNS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[test]
fn a_refusal_named_as_an_adaptive_limit_returns_overloaded_without_running() {
    let _serial = serial();
    adapted(Priority::Normal).unwrap();
    let runs = ADAPTIVE_RUNS.load(Ordering::Relaxed);
    chaos()
        .inject("chaos.adaptive", Fault::refusal(1.0))
        .unwrap();
    for priority in [Priority::Low, Priority::High] {
        let err = adapted(priority).unwrap_err();
        let AppError::Overloaded(overloaded) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (overloaded.name, overloaded.key, overloaded.priority),
            ("chaos.adaptive", None, priority)
        );
        assert_eq!(overloaded.waited, Duration::ZERO);
    }
    assert_eq!(ADAPTIVE_RUNS.load(Ordering::Relaxed), runs);
    // Not counted as the limit's own rejections, and its place is given back.
    let limit = registry().adaptive_limit("chaos.adaptive").unwrap();
    assert_eq!(limit.snapshot().rejections, 0);
    assert_eq!(limit.in_flight(), 0);
    let snap = chaos().snapshot();
    let fault = snap
        .faults
        .iter()
        .find(|f| f.site == "chaos.adaptive")
        .unwrap();
    assert_eq!((fault.calls, fault.injected), (2, 2));
    chaos().clear("chaos.adaptive");
    // The adaptive limit is the innermost layer: its gate draws the function's faults.
    let name = concat!(module_path!(), "::adapted");
    chaos().inject(name, Fault::error(1.0)).unwrap();
    let err = adapted(Priority::Normal).unwrap_err();
    assert!(
        matches!(err, AppError::Injected(ref f) if f.site() == name),
        "{err:?}"
    );
    chaos().clear(name);
    assert_eq!(ADAPTIVE_RUNS.load(Ordering::Relaxed), runs);
    adapted(Priority::Normal).unwrap();
    assert_eq!(ADAPTIVE_RUNS.load(Ordering::Relaxed), runs + 1);
}

#[bulkhead(name = "chaos.bulkhead.keyed", key = tenant, max_concurrent = 2)]
fn held_for(tenant: &str) -> Result<&str, AppError> {
    Ok(tenant)
}

#[test]
fn a_refusal_of_a_keyed_bulkhead_names_the_key() {
    let _serial = serial();
    chaos()
        .inject("chaos.bulkhead.keyed", Fault::refusal(1.0))
        .unwrap();
    let err = held_for("eu").unwrap_err();
    assert!(
        matches!(err, AppError::Full(ref full) if full.name == "chaos.bulkhead.keyed" && full.key.as_deref() == Some("eu")),
        "{err:?}"
    );
    chaos().clear("chaos.bulkhead.keyed");
    assert_eq!(held_for("eu").unwrap(), "eu");
}

static LIMITED_RUNS: AtomicU32 = AtomicU32::new(0);

#[rate_limit(name = "chaos.rate", limit = 1000, per = 1s)]
#[error_context("limited")]
async fn limited() -> Result<(), AppError> {
    LIMITED_RUNS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[tokio::test(start_paused = true)]
// Each test runs on its own runtime; the lock only orders the tests.
#[allow(clippy::await_holding_lock)]
async fn a_refusal_named_as_a_rate_limiter_returns_rate_limited_without_running() {
    let _serial = serial();
    limited().await.unwrap();
    let runs = LIMITED_RUNS.load(Ordering::Relaxed);
    chaos().inject("chaos.rate", Fault::refusal(1.0)).unwrap();
    let err = limited().await.unwrap_err();
    let AppError::Limited(limited_err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (limited_err.name, limited_err.key, limited_err.retry_after),
        ("chaos.rate", None, Duration::from_millis(1))
    );
    assert_eq!(LIMITED_RUNS.load(Ordering::Relaxed), runs);
    assert_eq!(
        registry()
            .rate_limiter("chaos.rate")
            .unwrap()
            .snapshot()
            .rejections,
        0
    );
    chaos().clear("chaos.rate");
    limited().await.unwrap();
    assert_eq!(LIMITED_RUNS.load(Ordering::Relaxed), runs + 1);
}

#[tokio::test(start_paused = true)]
// Each test runs on its own runtime; the lock only orders the tests.
#[allow(clippy::await_holding_lock)]
async fn latency_named_as_a_rate_limiter_is_exact_on_paused_time() {
    let _serial = serial();
    chaos()
        .inject(
            "chaos.rate",
            Fault::latency(1.0, Duration::from_millis(120)),
        )
        .unwrap();
    let start = tokio::time::Instant::now();
    limited().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(120));
    // With the function's own latency too: both gates wait, one after the other.
    let name = concat!(module_path!(), "::limited");
    chaos()
        .inject(name, Fault::latency(1.0, Duration::from_millis(30)))
        .unwrap();
    let start = tokio::time::Instant::now();
    limited().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(150));
    chaos().clear("chaos.rate");
    chaos().clear(name);
    let start = tokio::time::Instant::now();
    limited().await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
}

static HEDGED_RUNS: AtomicU32 = AtomicU32::new(0);

#[hedge(name = "chaos.hedge", delay = 10ms, max_hedges = 1)]
async fn hedged() -> Result<u32, AppError> {
    Ok(HEDGED_RUNS.fetch_add(1, Ordering::Relaxed))
}

#[tokio::test(start_paused = true)]
// Each test runs on its own runtime; the lock only orders the tests.
#[allow(clippy::await_holding_lock)]
async fn each_run_of_a_hedged_call_draws_the_functions_faults() {
    let _serial = serial();
    let name = concat!(module_path!(), "::hedged");
    // Every run is slow: the hedge starts a second run at 10ms, each draws (and waits).
    chaos()
        .inject(name, Fault::latency(1.0, Duration::from_millis(100)))
        .unwrap();
    let start = tokio::time::Instant::now();
    hedged().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    let snap = chaos().snapshot();
    let fault = snap.faults.iter().find(|f| f.site == name).unwrap();
    assert_eq!((fault.calls, fault.injected), (2, 2));
    chaos().clear(name);

    // Every run fails: the call returns the injected error, no run reached the body.
    let runs = HEDGED_RUNS.load(Ordering::Relaxed);
    chaos().inject(name, Fault::error(1.0)).unwrap();
    let err = hedged().await.unwrap_err();
    assert!(matches!(err, AppError::Injected(_)), "{err:?}");
    assert_eq!(HEDGED_RUNS.load(Ordering::Relaxed), runs);
    chaos().clear(name);
    hedged().await.unwrap();
    assert_eq!(HEDGED_RUNS.load(Ordering::Relaxed), runs + 1);
}

struct Payments;

static CHARGES: AtomicU32 = AtomicU32::new(0);

impl Payments {
    #[circuit_breaker(failure_threshold = 5, recovery_timeout = 60s)]
    fn charge(&self) -> Result<(), AppError> {
        CHARGES.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[test]
fn a_methods_faults_are_named_with_its_type_as_its_breaker_is() {
    let _serial = serial();
    let name = concat!(module_path!(), "::Payments::charge");
    let path = concat!(module_path!(), "::charge");
    Payments.charge().unwrap();
    assert!(registry().breaker(name).is_some());

    // Named without the type, a fault reaches nothing.
    chaos().inject(path, Fault::refusal(1.0)).unwrap();
    chaos().inject(path, Fault::error(1.0)).unwrap();
    Payments.charge().unwrap();
    chaos().clear(path);
    assert_eq!(CHARGES.load(Ordering::Relaxed), 2);

    // Named as the breaker: its refusal, named so, without running.
    chaos().inject(name, Fault::refusal(1.0)).unwrap();
    let err = Payments.charge().unwrap_err();
    assert!(
        matches!(err, AppError::Open(ref open) if open.name == name),
        "{err:?}"
    );
    chaos().clear(name);

    // An error named so is returned without running.
    chaos().inject(name, Fault::error(1.0)).unwrap();
    assert!(matches!(Payments.charge(), Err(AppError::Injected(_))));
    chaos().clear(name);
    assert_eq!(CHARGES.load(Ordering::Relaxed), 2);
    registry().breaker(name).unwrap().reset();
}

/// A registry of its own, with its own fault table.
static OWN: std::sync::LazyLock<resilience::registry::Registry> =
    std::sync::LazyLock::new(resilience::registry::Registry::new);

static OWN_RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "chaos.own", registry = OWN)]
fn in_own_registry() -> Result<u32, AppError> {
    Ok(OWN_RUNS.fetch_add(1, Ordering::Relaxed))
}

#[retry(max_attempts = 1, registry = OWN)]
#[error_context("own function")]
fn own_function() -> Result<u32, AppError> {
    Ok(OWN_RUNS.fetch_add(1, Ordering::Relaxed))
}

#[test]
fn a_site_of_a_registry_of_its_own_draws_that_registrys_faults_only() {
    let _serial = serial();
    // Set in the global table: the site of the other registry runs as written.
    chaos().inject("chaos.own", Fault::refusal(1.0)).unwrap();
    let runs = OWN_RUNS.load(Ordering::Relaxed);
    in_own_registry().unwrap();
    chaos().clear("chaos.own");

    // Set in its registry's table: refused, named so, without running.
    OWN.chaos()
        .inject("chaos.own", Fault::refusal(1.0))
        .unwrap();
    assert!(matches!(in_own_registry(), Err(AppError::Open(ref o)) if o.name == "chaos.own"));
    assert_eq!(OWN_RUNS.load(Ordering::Relaxed), runs + 1);
    assert!(!chaos()
        .snapshot()
        .sites
        .iter()
        .any(|s| s.name == "chaos.own"));
    assert_eq!(OWN.health().chaos.faults[0].injected, 1);
    OWN.chaos().clear("chaos.own");

    // A function's own faults come from the registry its attributes name.
    let name = concat!(module_path!(), "::own_function");
    OWN.chaos().inject(name, Fault::error(1.0)).unwrap();
    assert!(matches!(own_function(), Err(AppError::Injected(_))));
    chaos().inject(name, Fault::error(1.0)).unwrap();
    OWN.chaos().clear(name);
    own_function().unwrap();
    chaos().clear(name);
    assert_eq!(OWN_RUNS.load(Ordering::Relaxed), runs + 2);
}

#[tokio::test(start_paused = true)]
// Each test runs on its own runtime; the lock only orders the tests.
#[allow(clippy::await_holding_lock)]
async fn a_fault_named_as_the_hedge_applies_to_each_run() {
    let _serial = serial();
    // A refusal cannot be set on a hedge once it is known: nothing refuses its runs.
    hedged().await.unwrap();
    chaos()
        .inject("chaos.hedge", Fault::latency(1.0, Duration::from_millis(1)))
        .unwrap();
    hedged().await.unwrap();
    let err = chaos()
        .inject("chaos.hedge", Fault::refusal(1.0))
        .unwrap_err();
    assert!(
        matches!(
            err,
            ChaosError::Refused {
                fault: "refusal",
                ..
            }
        ),
        "{err}"
    );
    chaos().clear("chaos.hedge");

    // Each run fails with the injected error; the hedge's retryable failure starts the
    // next at once, which fails too; no run reached the body.
    let runs = HEDGED_RUNS.load(Ordering::Relaxed);
    chaos().inject("chaos.hedge", Fault::error(1.0)).unwrap();
    let start = tokio::time::Instant::now();
    let err = hedged().await.unwrap_err();
    assert!(
        matches!(err, AppError::Injected(ref f) if f.site() == "chaos.hedge"),
        "{err:?}"
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(HEDGED_RUNS.load(Ordering::Relaxed), runs);
    let snap = chaos().snapshot();
    let fault = snap
        .faults
        .iter()
        .find(|f| f.site == "chaos.hedge")
        .unwrap();
    assert_eq!((fault.calls, fault.injected), (2, 2));
    chaos().clear("chaos.hedge");
}
