//! Faults: user code that panics inside the machinery (`on_retry`, `record_if`, a
//! fallback, a cached value's `Clone`), clocks that go backwards, and invalid
//! configuration given at run time.
//!
//! A panic must unwind to the caller and leave every shared thing usable: the breaker not
//! wedged (its counts right, a half-open trial place given back), the retry budget
//! consistent, the monitor recording, the fallback cache readable. A clock set back must
//! leave breakers, budgets and the monitor valid and recovering. Every refused
//! configuration is an `Err` naming the field and the value, and changes nothing.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Once};
use std::time::Duration;

use resilience::breaker::Breaker;
use resilience::clock::ManualClock;
use resilience::monitor::{Monitor, MonitorConfig, SimilarityWeights};
use resilience::retry::{Backoff, BudgetConfig, Jitter, RetryBudget};
use resilience::{
    circuit_breaker, fallback, monitor, registry, retry, retry_budget, BreakerConfig, BreakerState,
    CircuitOpen, ConfigError, MarcusError, RetryConfig,
};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[derive(Debug, thiserror::Error, MarcusError)]
enum FaultError {
    #[error("the dependency failed")]
    #[marcus(category = transient)]
    Down,
    #[error("an error that makes `record_if` panic")]
    #[marcus(category = transient)]
    Poison,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

/// The payload of the panics injected here; the panic hook keeps them quiet.
struct Injected;

fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<Injected>() {
                default(info);
            }
        }));
    });
}

/// Runs `f`, which must panic with [`Injected`].
fn expect_injected_panic<T>(f: impl FnOnce() -> T) {
    quiet_injected_panics();
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("the injected panic did not reach the caller"),
        Err(payload) => assert!(payload.is::<Injected>(), "another panic unwound"),
    }
}

fn state_of(name: &str) -> resilience::BreakerSnapshot {
    registry().breaker(name).expect("registered").snapshot()
}

// ---------------------------------------------------------------------------------------
// A panicking `on_retry`.

static HOOKED_FAILS: AtomicU32 = AtomicU32::new(0);
static HOOKED_RUNS: AtomicU32 = AtomicU32::new(0);

fn explode_on_retry(_: &FaultError, _attempt: u32, _delay: Duration) {
    panic::panic_any(Injected);
}

/// Fails while `HOOKED_FAILS` is above zero.
fn hooked_body() -> Result<u32, FaultError> {
    HOOKED_RUNS.fetch_add(1, SeqCst);
    let failing = HOOKED_FAILS
        .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        Err(FaultError::Down)
    } else {
        Ok(HOOKED_RUNS.load(SeqCst))
    }
}

#[retry(max_attempts = 3, backoff = none, on_retry = explode_on_retry, budget = "faults.on_retry")]
#[circuit_breaker(name = "faults.on_retry", failure_threshold = 3, recovery_timeout = 30s)]
fn retried_inside_breaker() -> Result<u32, FaultError> {
    hooked_body()
}

static OUTER_FAILS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(
    name = "faults.on_retry.outer",
    failure_threshold = 1,
    success_threshold = 1,
    recovery_timeout = 1s
)]
#[retry(max_attempts = 2, backoff = none, on_retry = explode_on_retry)]
fn breaker_around_retry() -> Result<(), FaultError> {
    let failing = OUTER_FAILS
        .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        Err(FaultError::Down)
    } else {
        Ok(())
    }
}

#[test]
fn a_panicking_on_retry_unwinds_and_leaves_breaker_budget_and_monitor_usable() {
    let budget = retry_budget("faults.on_retry");
    budget.reset();
    let recorded = monitor().total_recorded();

    HOOKED_FAILS.store(1, SeqCst);
    expect_injected_panic(retried_inside_breaker);
    assert_eq!(HOOKED_RUNS.load(SeqCst), 1, "the retry never ran");

    // The breaker had recorded the failure before the hook ran, and is not wedged.
    let s = state_of("faults.on_retry");
    assert_eq!((s.state, s.consecutive_failures), (BreakerState::Closed, 1));
    // The budget granted the retry (the token is spent when the retry is planned, before
    // the hook) and is consistent and usable.
    // (It refills at 10 tokens a second on the system clock: a fraction may have come back.)
    let b = budget.snapshot();
    assert_eq!((b.withdrawn, b.rejected), (1, 0));
    assert!((99.0..100.0).contains(&b.available), "{b:?}");
    assert!(budget.try_withdraw());
    // The monitor recorded the failed run, and records on.
    assert!(monitor().total_recorded() > recorded);

    // The next call behaves.
    assert_eq!(retried_inside_breaker().expect("healthy again"), 2);
    assert_eq!(state_of("faults.on_retry").consecutive_failures, 0);
    let before = monitor().total_recorded();
    monitor().record(&resilience::errors::NetworkTimeout::new("after the panic"));
    assert!(monitor().total_recorded() > before);
    assert!(monitor().health().score <= 100);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_on_retry_inside_a_trial_counts_as_its_failure_and_frees_its_place() {
    // The panic unwinds through the breaker's permit: a failure, which opens it
    // (threshold 1).
    OUTER_FAILS.store(1, SeqCst);
    expect_injected_panic(breaker_around_retry);
    let s = state_of("faults.on_retry.outer");
    assert_eq!((s.state, s.times_opened), (BreakerState::Open, 1));

    // The trial call panics the same way: the trial fails, the breaker re-opens, and no
    // trial place is left taken.
    tokio::time::advance(secs(1)).await;
    OUTER_FAILS.store(1, SeqCst);
    expect_injected_panic(breaker_around_retry);
    let s = state_of("faults.on_retry.outer");
    assert_eq!(
        (s.state, s.times_opened, s.half_open_in_flight),
        (BreakerState::Open, 2, 0)
    );

    // And it recovers: the next trial succeeds and closes it.
    tokio::time::advance(secs(1)).await;
    breaker_around_retry().expect("a successful trial");
    assert_eq!(
        state_of("faults.on_retry.outer").state,
        BreakerState::Closed
    );
}

// ---------------------------------------------------------------------------------------
// A panicking `record_if`.

fn record_if_explodes(e: &FaultError) -> bool {
    if matches!(e, FaultError::Poison) {
        panic::panic_any(Injected);
    }
    true
}

#[circuit_breaker(
    name = "faults.record_if",
    failure_threshold = 2,
    success_threshold = 1,
    half_open_max_calls = 1,
    recovery_timeout = 1s,
    record_if = record_if_explodes
)]
fn judged(outcome: Result<(), FaultError>) -> Result<(), FaultError> {
    outcome
}

#[tokio::test(start_paused = true)]
async fn a_panicking_record_if_counts_as_a_failure_and_frees_a_trial_place() {
    let recorded = monitor().total_recorded();

    // Closed: the call counts as a failure, and the panic reaches the caller.
    expect_injected_panic(|| judged(Err(FaultError::Poison)));
    let s = state_of("faults.record_if");
    assert_eq!((s.state, s.consecutive_failures), (BreakerState::Closed, 1));
    assert!(
        monitor().total_recorded() > recorded,
        "the monitor saw the error"
    );
    judged(Ok(())).expect("closed");
    assert_eq!(state_of("faults.record_if").consecutive_failures, 0);

    // Half-open, with one trial place: the panicking trial fails and re-opens it.
    for _ in 0..2 {
        let _ = judged(Err(FaultError::Down));
    }
    assert_eq!(state_of("faults.record_if").state, BreakerState::Open);
    tokio::time::advance(secs(1)).await;
    expect_injected_panic(|| judged(Err(FaultError::Poison)));
    let s = state_of("faults.record_if");
    assert_eq!(
        (s.state, s.half_open_in_flight, s.times_opened),
        (BreakerState::Open, 0, 2)
    );
    assert!(matches!(judged(Ok(())), Err(FaultError::Open(_))));

    // The place is free again after the timeout: a good trial closes it.
    tokio::time::advance(secs(1)).await;
    judged(Ok(())).expect("a trial");
    assert_eq!(state_of("faults.record_if").state, BreakerState::Closed);
}

// ---------------------------------------------------------------------------------------
// A panicking fallback.

static FALLBACK_RUNS: AtomicU32 = AtomicU32::new(0);

fn exploding_fallback(_fail: bool) -> Result<u32, FaultError> {
    panic::panic_any(Injected);
}

#[fallback(exploding_fallback)]
#[retry(max_attempts = 2, backoff = none, budget = "faults.fallback")]
#[circuit_breaker(name = "faults.fallback", failure_threshold = 3, recovery_timeout = 30s)]
fn with_fallback(fail: bool) -> Result<u32, FaultError> {
    FALLBACK_RUNS.fetch_add(1, SeqCst);
    if fail {
        Err(FaultError::Down)
    } else {
        Ok(7)
    }
}

#[test]
fn a_panicking_fallback_unwinds_after_the_inner_layers_have_recorded() {
    let budget = retry_budget("faults.fallback");
    budget.reset();
    let recorded = monitor().total_recorded();

    expect_injected_panic(|| with_fallback(true));
    assert_eq!(FALLBACK_RUNS.load(SeqCst), 2, "both attempts ran first");
    let s = state_of("faults.fallback");
    assert_eq!((s.state, s.consecutive_failures), (BreakerState::Closed, 2));
    let b = budget.snapshot();
    assert_eq!(b.withdrawn, 1);
    assert!((99.0..100.0).contains(&b.available), "{b:?}");
    assert!(
        monitor().total_recorded() >= recorded + 2,
        "both failed runs recorded"
    );

    assert_eq!(with_fallback(false).expect("healthy"), 7);
    assert_eq!(state_of("faults.fallback").consecutive_failures, 0);
}

static CACHED_FALLBACK_PANICS: AtomicBool = AtomicBool::new(false);
static CLONE_PANICS: AtomicBool = AtomicBool::new(false);

/// A value whose `Clone` can be made to panic (inside the fallback cache's lock).
#[derive(Debug, PartialEq)]
struct Fragile(u32);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        if CLONE_PANICS.load(SeqCst) {
            panic::panic_any(Injected);
        }
        Fragile(self.0)
    }
}

fn cached_fallback(_value: Option<u32>) -> Result<Fragile, FaultError> {
    if CACHED_FALLBACK_PANICS.load(SeqCst) {
        panic::panic_any(Injected);
    }
    Err(FaultError::Down)
}

#[fallback(cached_fallback, cached)]
fn cached(value: Option<u32>) -> Result<Fragile, FaultError> {
    value.map(Fragile).ok_or(FaultError::Down)
}

#[test]
fn panics_around_a_cached_fallback_leave_the_cache_usable() {
    assert_eq!(cached(Some(1)).ok(), Some(Fragile(1)));

    // The fallback panics: the caller sees the panic, the cache is untouched.
    CACHED_FALLBACK_PANICS.store(true, SeqCst);
    expect_injected_panic(|| cached(None));
    CACHED_FALLBACK_PANICS.store(false, SeqCst);
    assert_eq!(cached(None).ok(), Some(Fragile(1)));

    // Storing a value whose `Clone` panics (under the cache's lock): a poisoned lock
    // must not wedge the cache.
    CLONE_PANICS.store(true, SeqCst);
    expect_injected_panic(|| cached(Some(2)));
    CLONE_PANICS.store(false, SeqCst);
    assert_eq!(cached(Some(3)).ok(), Some(Fragile(3)));
    assert_eq!(cached(None).ok(), Some(Fragile(3)));
}

// ---------------------------------------------------------------------------------------
// Clocks that go backwards.

#[test]
fn a_breaker_whose_clock_goes_backwards_stays_valid_and_recovers() {
    let clock = ManualClock::new();
    clock.set(secs(100));
    let b = Breaker::new(
        "faults.clock",
        BreakerConfig {
            failure_threshold: 1,
            success_threshold: 1,
            recovery_timeout: secs(10),
            window: Some(secs(5)),
            max_failures_per_window: Some(3),
            slow_call: Some(ms(100)),
            slow_call_rate: Some(100.0),
            minimum_calls: 5,
            window_size: 10,
            ..BreakerConfig::default()
        },
    )
    .expect("valid")
    .with_clock(Arc::new(clock.clone()));

    b.acquire().expect("closed").record_failure();
    assert_eq!(b.state(), BreakerState::Open);

    // Set back far: the wait never exceeds one recovery timeout from the new "now".
    clock.set(Duration::ZERO);
    let s = b.snapshot();
    assert_eq!(s.state, BreakerState::Open);
    assert!(s.retry_after.is_some_and(|d| d <= secs(10)), "{s:?}");
    let open = b.acquire().expect_err("still open");
    assert!(open.retry_after.is_some_and(|d| d <= secs(10)), "{open:?}");

    clock.advance(secs(10));
    let trial = b.acquire().expect("a trial after one timeout");
    assert!(trial.is_trial());
    trial.record_success();
    assert_eq!(b.state(), BreakerState::Closed);

    // A call that started "later" than it ended is not slow; its outcome still counts.
    let permit = b.acquire().expect("closed");
    clock.set(secs(1));
    permit.record_success();
    let s = b.snapshot();
    assert_eq!(
        (s.state, s.window_calls, s.window_slow_calls),
        (BreakerState::Closed, 1, 0)
    );

    // Failure times from the "future" (before the clock went back) stay within bounds.
    b.configure(BreakerConfig {
        failure_threshold: 10,
        ..b.config()
    })
    .expect("valid");
    clock.set(secs(50));
    b.acquire().expect("closed").record_failure();
    clock.set(secs(2));
    b.acquire().expect("closed").record_failure();
    let s = b.snapshot();
    assert!(s.failures_in_window <= 2, "{s:?}");
    assert!(matches!(s.state, BreakerState::Closed | BreakerState::Open));
    b.reset();
    b.acquire().expect("closed after a reset").record_success();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_budget_and_a_monitor_whose_clock_goes_backwards_stay_valid() {
    let clock = ManualClock::new();
    clock.set(secs(1_000));
    let budget = RetryBudget::new(
        BudgetConfig {
            capacity: 2,
            refill_per_second: 1.0,
            deposit_per_success: 0.0,
            ..Default::default()
        },
        clock.clone(),
    )
    .expect("valid");
    assert!(budget.try_withdraw() && budget.try_withdraw());
    clock.set(secs(10));
    assert_eq!(budget.available(), 0, "time going back credits nothing");
    assert!(!budget.try_withdraw());
    clock.advance(secs(1));
    assert_eq!(
        budget.available(),
        1,
        "refilled from the new reading, not once the clock is back at 1 000 s"
    );
    clock.set(secs(1_000));
    assert_eq!(budget.available(), 2, "capped at its capacity");
    let s = budget.snapshot();
    assert!((0.0..=2.0).contains(&s.available), "{s:?}");

    let monitor = Monitor::new(MonitorConfig::default())
        .expect("valid")
        .with_clock(Arc::new(clock.clone()));
    let err = resilience::errors::NetworkTimeout::new("slow");
    monitor.record(&err);
    clock.set(Duration::ZERO);
    monitor.record(&err);
    assert_eq!(monitor.history_len(), 2);
    let health = monitor.health();
    assert!(health.score <= 100);
    let _ = monitor.patterns();
    assert_eq!(monitor.snapshot().retained, 2);
}

// ---------------------------------------------------------------------------------------
// Invalid configuration at run time.

/// Asserts `result` is the refusal of `field` with `value`.
#[track_caller]
fn refused(result: Result<(), ConfigError>, field: &str, value: &str) {
    let err = result.expect_err("an invalid configuration was accepted");
    assert_eq!((err.field(), err.value()), (field, value), "{err}");
    assert!(err.to_string().contains(field), "{err}");
}

fn bad_breaker_configs() -> Vec<(BreakerConfig, &'static str, &'static str)> {
    let d = BreakerConfig::default;
    vec![
        (
            BreakerConfig {
                failure_threshold: 0,
                ..d()
            },
            "failure_threshold",
            "0",
        ),
        (
            BreakerConfig {
                failure_threshold: 1_000_001,
                ..d()
            },
            "failure_threshold",
            "1000001",
        ),
        (
            BreakerConfig {
                success_threshold: 0,
                ..d()
            },
            "success_threshold",
            "0",
        ),
        (
            BreakerConfig {
                half_open_max_calls: 0,
                ..d()
            },
            "half_open_max_calls",
            "0",
        ),
        (
            BreakerConfig {
                half_open_max_calls: 70_000,
                ..d()
            },
            "half_open_max_calls",
            "70000",
        ),
        (
            BreakerConfig {
                recovery_timeout: Duration::ZERO,
                ..d()
            },
            "recovery_timeout",
            "0ns",
        ),
        (
            BreakerConfig {
                failure_rate: Some(100.5),
                ..d()
            },
            "failure_rate",
            "100.5",
        ),
        (
            BreakerConfig {
                failure_rate: Some(-0.1),
                ..d()
            },
            "failure_rate",
            "-0.1",
        ),
        (
            BreakerConfig {
                failure_rate: Some(f64::NAN),
                ..d()
            },
            "failure_rate",
            "NaN",
        ),
        (
            BreakerConfig {
                slow_call: Some(ms(10)),
                slow_call_rate: Some(f64::INFINITY),
                ..d()
            },
            "slow_call_rate",
            "inf",
        ),
        (
            BreakerConfig {
                window: Some(Duration::ZERO),
                max_failures_per_window: Some(3),
                ..d()
            },
            "window",
            "0ns",
        ),
        (
            BreakerConfig {
                window: Some(secs(1)),
                ..d()
            },
            "max_failures_per_window",
            "None",
        ),
        (
            BreakerConfig {
                window: Some(secs(1)),
                max_failures_per_window: Some(0),
                ..d()
            },
            "max_failures_per_window",
            "0",
        ),
        (
            BreakerConfig {
                minimum_calls: 0,
                ..d()
            },
            "minimum_calls",
            "0",
        ),
        (
            BreakerConfig {
                minimum_calls: 101,
                ..d()
            },
            "minimum_calls",
            "101",
        ),
        (
            BreakerConfig {
                window_size: 100_001,
                ..d()
            },
            "window_size",
            "100001",
        ),
        (
            BreakerConfig {
                slow_call: Some(Duration::ZERO),
                slow_call_rate: Some(50.0),
                ..d()
            },
            "slow_call",
            "0ns",
        ),
        (
            BreakerConfig {
                parent: Some("  ".into()),
                ..d()
            },
            "parent",
            "\"  \"",
        ),
    ]
}

#[test]
fn invalid_breaker_configurations_are_errors_naming_field_and_value() {
    let good = BreakerConfig {
        failure_threshold: 4,
        ..BreakerConfig::default()
    };
    let b = registry()
        .register("faults.config", good.clone())
        .expect("valid");
    let standalone = Breaker::new("faults.config.standalone", good.clone()).expect("valid");
    for (config, field, value) in bad_breaker_configs() {
        refused(
            registry().configure("faults.config", config.clone()),
            field,
            value,
        );
        refused(
            registry().configure("faults.config.unregistered", config.clone()),
            field,
            value,
        );
        refused(standalone.configure(config.clone()), field, value);
        refused(
            Breaker::new("faults.config.new", config.clone()).map(drop),
            field,
            value,
        );
        refused(
            registry().register("faults.config.other", config).map(drop),
            field,
            value,
        );
    }
    // Nothing was applied, nor kept for later.
    assert_eq!(b.config(), good);
    assert_eq!(standalone.config(), good);
    assert!(registry().breaker("faults.config.other").is_none());
    let later = registry()
        .register("faults.config.unregistered", BreakerConfig::default())
        .expect("valid");
    assert_eq!(later.config(), BreakerConfig::default());

    // A parent that would make a cycle names the parent.
    registry()
        .configure(
            "faults.config.child",
            BreakerConfig {
                parent: Some("faults.config".into()),
                ..good.clone()
            },
        )
        .expect("a tree");
    refused(
        registry().configure(
            "faults.config",
            BreakerConfig {
                parent: Some("faults.config.child".into()),
                ..good
            },
        ),
        "parent",
        "\"faults.config.child\"",
    );
}

#[test]
fn invalid_budget_configurations_are_errors_naming_field_and_value() {
    let budget = retry_budget("faults.budget.config");
    let before = budget.config();
    let d = BudgetConfig::default;
    let cases = [
        (BudgetConfig { capacity: 0, ..d() }, "capacity", "0"),
        (
            BudgetConfig {
                refill_per_second: -1.0,
                ..d()
            },
            "refill_per_second",
            "-1.0",
        ),
        (
            BudgetConfig {
                refill_per_second: f64::NAN,
                ..d()
            },
            "refill_per_second",
            "NaN",
        ),
        (
            BudgetConfig {
                refill_per_second: f64::INFINITY,
                ..d()
            },
            "refill_per_second",
            "inf",
        ),
        (
            BudgetConfig {
                deposit_per_success: -0.5,
                ..d()
            },
            "deposit_per_success",
            "-0.5",
        ),
        (
            BudgetConfig {
                deposit_per_success: f64::NAN,
                ..d()
            },
            "deposit_per_success",
            "NaN",
        ),
    ];
    for (config, field, value) in cases {
        refused(budget.configure(config), field, value);
        refused(
            RetryBudget::new(config, ManualClock::new()).map(drop),
            field,
            value,
        );
    }
    assert_eq!(budget.config(), before);
    assert!(budget.try_withdraw(), "still usable");
}

#[test]
fn invalid_monitor_configurations_are_errors_naming_field_and_value() {
    let before = monitor().config();
    let d = MonitorConfig::default;
    let weights = |time| SimilarityWeights {
        time,
        ..SimilarityWeights::default()
    };
    let cases = [
        (
            MonitorConfig {
                history_capacity: 0,
                ..d()
            },
            "history_capacity",
            "0",
        ),
        (
            MonitorConfig {
                frequency_threshold: 0,
                ..d()
            },
            "frequency_threshold",
            "0",
        ),
        (
            MonitorConfig {
                burst_threshold: 0,
                ..d()
            },
            "burst_threshold",
            "0",
        ),
        (
            MonitorConfig {
                agent_threshold: 0,
                ..d()
            },
            "agent_threshold",
            "0",
        ),
        (
            MonitorConfig {
                cascade_threshold: 0,
                ..d()
            },
            "cascade_threshold",
            "0",
        ),
        (
            MonitorConfig {
                frequency_window: Duration::ZERO,
                ..d()
            },
            "frequency_window",
            "0ns",
        ),
        (
            MonitorConfig {
                burst_window: Duration::ZERO,
                ..d()
            },
            "burst_window",
            "0ns",
        ),
        (
            MonitorConfig {
                health_window: Duration::ZERO,
                ..d()
            },
            "health_window",
            "0ns",
        ),
        (
            MonitorConfig {
                cascade_similarity: 0.0,
                ..d()
            },
            "cascade_similarity",
            "0.0",
        ),
        (
            MonitorConfig {
                cascade_similarity: 1.5,
                ..d()
            },
            "cascade_similarity",
            "1.5",
        ),
        (
            MonitorConfig {
                cascade_similarity: f64::NAN,
                ..d()
            },
            "cascade_similarity",
            "NaN",
        ),
        (
            MonitorConfig {
                similarity_weights: weights(-1.0),
                ..d()
            },
            "similarity_weights.time",
            "-1.0",
        ),
        (
            MonitorConfig {
                similarity_weights: weights(f64::INFINITY),
                ..d()
            },
            "similarity_weights.time",
            "inf",
        ),
        // Weights summing to 0.9 can never reach a similarity of 0.95.
        (
            MonitorConfig {
                similarity_weights: weights(0.0),
                cascade_similarity: 0.95,
                ..d()
            },
            "cascade_similarity",
            "0.95",
        ),
    ];
    for (config, field, value) in cases {
        refused(monitor().configure(config.clone()), field, value);
        refused(Monitor::new(config).map(drop), field, value);
    }
    assert_eq!(monitor().config(), before);
}

#[test]
fn invalid_retry_policies_are_errors_naming_field_and_value() {
    let d = RetryConfig::default;
    let exponential = |factor, max| Backoff::Exponential {
        base: secs(1),
        factor,
        max,
    };
    let cases = [
        (
            RetryConfig {
                max_attempts: 0,
                ..d()
            },
            "max_attempts",
            "0",
        ),
        (
            RetryConfig {
                backoff: exponential(0.5, secs(10)),
                ..d()
            },
            "backoff.factor",
            "0.5",
        ),
        (
            RetryConfig {
                backoff: exponential(f64::NAN, secs(10)),
                ..d()
            },
            "backoff.factor",
            "NaN",
        ),
        (
            RetryConfig {
                backoff: exponential(f64::INFINITY, secs(10)),
                ..d()
            },
            "backoff.factor",
            "inf",
        ),
        (
            RetryConfig {
                backoff: exponential(2.0, ms(100)),
                ..d()
            },
            "backoff.max",
            "100ms",
        ),
        (
            RetryConfig {
                jitter: Jitter::Spread(0.0),
                ..d()
            },
            "jitter",
            "Spread(0.0)",
        ),
        (
            RetryConfig {
                jitter: Jitter::Spread(1.5),
                ..d()
            },
            "jitter",
            "Spread(1.5)",
        ),
        (
            RetryConfig {
                jitter: Jitter::Spread(f64::NAN),
                ..d()
            },
            "jitter",
            "Spread(NaN)",
        ),
        (
            RetryConfig {
                max_elapsed: Some(Duration::ZERO),
                ..d()
            },
            "max_elapsed",
            "0ns",
        ),
        (
            RetryConfig {
                budget: Some("".into()),
                ..d()
            },
            "budget",
            "\"\"",
        ),
    ];
    for (config, field, value) in cases {
        refused(
            registry().configure_retry("faults.policy", config.clone()),
            field,
            value,
        );
        refused(config.validate(), field, value);
    }
    assert_eq!(
        registry().retry_policy("faults.policy"),
        None,
        "nothing was kept"
    );
}
