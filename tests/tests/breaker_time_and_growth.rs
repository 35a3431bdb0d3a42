//! `rate_window`, `recovery_factor` and `max_recovery_timeout` as a user writes them: on
//! `#[circuit_breaker]` and `#[resilient]`, pointed at a registry on a manual clock; and
//! the run-time refusals of a bad value, each naming its field.

use std::sync::LazyLock;
use std::time::Duration;

use resilience::breaker::{Breaker, WindowKind};
use resilience::clock::ManualClock;
use resilience::registry::Registry;
use resilience::{circuit_breaker, resilient, BreakerConfig, BreakerState, CircuitOpen};

const SEC: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error, PartialEq)]
enum Failure {
    #[error("down")]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

fn outcome(fail: bool) -> Result<u32, Failure> {
    if fail {
        Err(Failure::Down)
    } else {
        Ok(1)
    }
}

static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static REG: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(CLOCK.clone()));

#[circuit_breaker(
    registry = REG,
    name = "growth.attr",
    failure_rate = 50,
    minimum_calls = 2,
    rate_window = 64s,
    recovery_timeout = 1s,
    recovery_factor = 2,
    max_recovery_timeout = 3s,
    success_threshold = 1
)]
fn guarded(fail: bool) -> Result<u32, Failure> {
    outcome(fail)
}

/// The attribute's keys reach the breaker, its time window forgets, and its open period
/// grows over failed trials, 1 s, 2 s, 3 s, 3 s, then starts again after a closing.
#[test]
fn the_attributes_breaker_forgets_old_calls_and_stays_open_longer_each_failed_trial() {
    CLOCK.set(100 * SEC);
    assert_eq!(guarded(true), Err(Failure::Down)); // 1 call: short of the minimum
    let breaker = REG.breaker("growth.attr").expect("registered in REG");
    let config = breaker.config();
    assert_eq!(
        (
            config.rate_window,
            config.recovery_factor,
            config.max_recovery_timeout
        ),
        (Some(64 * SEC), 2.0, Some(3 * SEC))
    );
    assert_eq!(breaker.snapshot().window_kind, Some(WindowKind::Time));

    // 64 s on, that failure has left the window: this success is 1 call of 1, 0 %.
    CLOCK.advance(64 * SEC);
    assert_eq!(guarded(false), Ok(1));
    assert_eq!(breaker.snapshot().window_failures, 0);
    assert_eq!(guarded(true), Err(Failure::Down)); // 1 of 2: 50 %
    assert_eq!(breaker.state(), BreakerState::Open);

    let mut periods = Vec::new();
    for _ in 0..4 {
        let Err(Failure::Open(open)) = guarded(false) else {
            panic!("open: refused");
        };
        let period = open.retry_after.expect("open says when");
        periods.push(period);
        CLOCK.advance(period);
        if periods.len() < 4 {
            assert_eq!(guarded(true), Err(Failure::Down), "the trial fails");
        }
    }
    assert_eq!(periods, [SEC, 2 * SEC, 3 * SEC, 3 * SEC]);
    assert_eq!(guarded(false), Ok(1), "the trial succeeds and closes it");
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.snapshot().open_period, SEC);
}

static RESILIENT_REG: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(CLOCK.clone()));

#[resilient(
    registry = RESILIENT_REG,
    name = "growth.resilient",
    max_attempts = 1,
    failure_rate = 50,
    rate_window = 10s,
    recovery_factor = 1.5,
    max_recovery_timeout = 2m
)]
fn all_in_one(fail: bool) -> Result<u32, Failure> {
    outcome(fail)
}

#[test]
fn resilient_routes_the_keys_to_its_breaker() {
    assert_eq!(all_in_one(false), Ok(1));
    let config = RESILIENT_REG
        .breaker("growth.resilient")
        .expect("registered")
        .config();
    assert_eq!(config.rate_window, Some(10 * SEC));
    assert_eq!(config.recovery_factor, 1.5);
    assert_eq!(config.max_recovery_timeout, Some(120 * SEC));
}

/// Values the attribute cannot see (expressions) and hand-made configurations are
/// checked at run time: an `Err` naming the field and the value.
#[test]
fn bad_values_at_run_time_are_errors_naming_the_field() {
    let rated = BreakerConfig {
        failure_rate: Some(50.0),
        ..BreakerConfig::default()
    };
    let cases = [
        (
            BreakerConfig {
                rate_window: Some(Duration::ZERO),
                ..rated.clone()
            },
            "rate_window",
        ),
        (
            BreakerConfig {
                rate_window: Some(Duration::from_secs(86_401)),
                ..rated.clone()
            },
            "rate_window",
        ),
        (
            BreakerConfig {
                rate_window: Some(10 * SEC),
                window_size: 50,
                ..rated.clone()
            },
            "window_size",
        ),
        (
            BreakerConfig {
                recovery_factor: 0.9,
                ..rated.clone()
            },
            "recovery_factor",
        ),
        (
            BreakerConfig {
                recovery_factor: f64::NAN,
                ..rated.clone()
            },
            "recovery_factor",
        ),
        (
            BreakerConfig {
                recovery_timeout: 10 * SEC,
                recovery_factor: 2.0,
                max_recovery_timeout: Some(5 * SEC),
                ..rated.clone()
            },
            "max_recovery_timeout",
        ),
    ];
    let registry = Registry::new();
    for (config, field) in cases {
        let err = Breaker::new("growth.bad", config.clone()).unwrap_err();
        assert_eq!(err.field(), field, "{err}");
        let err = registry.configure("growth.bad", config).unwrap_err();
        assert_eq!(err.field(), field, "{err}");
    }
}
