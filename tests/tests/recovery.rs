//! Recovery: every transition at its exact threshold, the traffic ramp step by step on a
//! hand-moved clock with the exact admitted fraction at each step, health checks on
//! paused tokio time (due intervals, concurrency, timeouts, panics, a dropped run), the
//! suite report, slow start after a real breaker closes, snapshots and tracing.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience::clock::ManualClock;
use resilience::recovery::{CheckConfig, RampConfig, Recovery, RecoveryConfig, RecoveryState};
use resilience::registry::Registry;
use resilience::{registry, BreakerConfig, BreakerState};
use serde_json::json;

use RecoveryState::{Degraded, Failed, Healthy, Recovering};

const SEC: Duration = Duration::from_secs(1);

fn manual() -> (Recovery, ManualClock) {
    let clock = ManualClock::new();
    (Recovery::with_clock(Arc::new(clock.clone())), clock)
}

/// A registry of its own on a manual clock: its breakers, and its recovery whose slow
/// starts follow them.
fn manual_registry() -> (Registry, ManualClock) {
    let clock = ManualClock::new();
    (Registry::with_clock(Arc::new(clock.clone())), clock)
}

fn fail(r: &Recovery, name: &str, n: u32) {
    (0..n).for_each(|_| r.report_failure(name));
}

fn pass(r: &Recovery, name: &str, n: u32) {
    (0..n).for_each(|_| r.report_success(name));
}

/// How many of the next `n` calls are admitted.
fn admitted(r: &Recovery, name: &str, n: usize) -> usize {
    (0..n).filter(|_| r.should_route_to(name)).count()
}

/// Takes `name` to failed with the default thresholds, then to recovering.
fn to_recovering(r: &Recovery, name: &str) {
    fail(r, name, 10);
    pass(r, name, 3);
    assert_eq!(r.state(name), Some(Recovering));
}

// --- transitions ----------------------------------------------------------------------

#[test]
fn healthy_to_degraded_at_exactly_the_third_consecutive_failure() {
    let r = Recovery::new();
    fail(&r, "db", 2);
    assert_eq!(r.state("db"), Some(Healthy));
    r.report_success("db");
    fail(&r, "db", 2);
    assert_eq!(r.state("db"), Some(Healthy), "a success restarts the run");
    r.report_failure("db");
    assert_eq!(r.state("db"), Some(Degraded));
    assert!(
        r.should_route_to("db"),
        "degraded from healthy keeps its traffic"
    );
    assert_eq!(r.ramp_percent("db"), 100);
}

#[test]
fn degraded_to_failed_at_exactly_the_tenth_consecutive_failure() {
    let r = Recovery::new();
    fail(&r, "db", 9);
    assert_eq!(r.state("db"), Some(Degraded));
    r.report_failure("db");
    assert_eq!(r.state("db"), Some(Failed));
    assert!(!r.should_route_to("db"));
    assert_eq!(r.ramp_percent("db"), 0);
    fail(&r, "db", 20);
    assert_eq!(r.state("db"), Some(Failed), "failed is the bottom");
}

#[test]
fn degraded_that_kept_its_traffic_goes_straight_back_to_healthy_after_three_successes() {
    let r = Recovery::new();
    fail(&r, "db", 3);
    pass(&r, "db", 2);
    r.report_failure("db");
    pass(&r, "db", 2);
    assert_eq!(
        r.state("db"),
        Some(Degraded),
        "the failure restarted the run of successes"
    );
    r.report_success("db");
    assert_eq!(r.state("db"), Some(Healthy));
}

#[test]
fn failed_to_recovering_after_exactly_three_successes() {
    let r = Recovery::new();
    fail(&r, "db", 10);
    pass(&r, "db", 2);
    assert_eq!(r.state("db"), Some(Failed));
    assert!(!r.should_route_to("db"));
    r.report_success("db");
    assert_eq!(r.state("db"), Some(Recovering));
    assert_eq!(r.ramp_percent("db"), 20, "the default ramp's first step");
}

#[test]
fn a_failure_while_recovering_degrades_with_no_traffic_then_recovers_again() {
    let (r, clock) = manual();
    to_recovering(&r, "db");
    clock.advance(45 * SEC);
    assert_eq!(r.ramp_percent("db"), 40);
    r.report_failure("db");
    assert_eq!(r.state("db"), Some(Degraded));
    assert_eq!(r.ramp_percent("db"), 0);
    assert_eq!(admitted(&r, "db", 100), 0);

    pass(&r, "db", 3);
    assert_eq!(
        r.state("db"),
        Some(Recovering),
        "lost its traffic, so it ramps back"
    );
    assert_eq!(r.ramp_percent("db"), 20, "the ramp starts over");

    r.report_failure("db");
    fail(&r, "db", 8);
    assert_eq!(r.state("db"), Some(Degraded));
    r.report_failure("db");
    assert_eq!(
        r.state("db"),
        Some(Failed),
        "ten in a row, counted from the failed recovery"
    );
}

#[test]
fn custom_thresholds_apply_exactly() {
    let r = Recovery::new();
    r.configure(
        "api",
        RecoveryConfig {
            degrade_after: 1,
            fail_after: 2,
            recover_after: 1,
            ..Default::default()
        },
    )
    .unwrap();
    r.report_failure("api");
    assert_eq!(r.state("api"), Some(Degraded));
    r.report_failure("api");
    assert_eq!(r.state("api"), Some(Failed));
    r.report_success("api");
    assert_eq!(r.state("api"), Some(Recovering));
}

#[test]
fn invalid_configurations_are_errors_naming_field_and_value() {
    let r = Recovery::new();
    let cases: [(RecoveryConfig, &str, &str); 6] = [
        (
            RecoveryConfig {
                degrade_after: 0,
                ..Default::default()
            },
            "degrade_after",
            "0",
        ),
        (
            RecoveryConfig {
                fail_after: 2,
                ..Default::default()
            },
            "fail_after",
            "2",
        ),
        (
            RecoveryConfig {
                recover_after: 0,
                ..Default::default()
            },
            "recover_after",
            "0",
        ),
        (
            RecoveryConfig {
                ramp: RampConfig {
                    steps: vec![],
                    step_interval: SEC,
                },
                ..Default::default()
            },
            "steps",
            "[]",
        ),
        (
            RecoveryConfig {
                ramp: RampConfig {
                    steps: vec![50, 50, 100],
                    step_interval: SEC,
                },
                ..Default::default()
            },
            "steps",
            "[50, 50, 100]",
        ),
        (
            RecoveryConfig {
                ramp: RampConfig {
                    steps: vec![100],
                    step_interval: Duration::ZERO,
                },
                ..Default::default()
            },
            "step_interval",
            "0ns",
        ),
    ];
    for (config, field, value) in cases {
        let err = r.configure("x", config).unwrap_err();
        assert_eq!((err.field(), err.value()), (field, value), "{err}");
    }
    assert_eq!(RampConfig::new([0, 100], SEC).unwrap_err().field(), "steps");
    assert_eq!(
        RampConfig::new([10, 101], SEC).unwrap_err().field(),
        "steps"
    );
    assert!(RampConfig::new([10, 90], SEC)
        .unwrap_err()
        .reason()
        .contains("last step must be 100"));
    assert_eq!(
        r.snapshot().services.len(),
        0,
        "refused configurations make no service"
    );
}

#[test]
fn unknown_names_are_routed_and_have_no_state() {
    let r = Recovery::new();
    assert!(r.should_route_to("nobody"));
    assert_eq!(r.ramp_percent("nobody"), 100);
    assert_eq!(r.state("nobody"), None);
}

// --- the ramp -------------------------------------------------------------------------

#[test]
fn the_ramp_steps_10_25_50_75_100_and_admits_exactly_that_fraction_at_each_step() {
    let (r, clock) = manual();
    r.configure(
        "db",
        RecoveryConfig {
            ramp: RampConfig::new([10, 25, 50, 75, 100], 30 * SEC).unwrap(),
            ..Default::default()
        },
    )
    .unwrap();
    to_recovering(&r, "db");

    for (step, percent) in [10_u8, 25, 50, 75].into_iter().enumerate() {
        assert_eq!(r.state("db"), Some(Recovering), "step {step}");
        assert_eq!(r.ramp_percent("db"), percent);
        assert_eq!(
            admitted(&r, "db", 100),
            usize::from(percent),
            "exactly {percent} of 100 calls"
        );
        assert_eq!(
            admitted(&r, "db", 100),
            usize::from(percent),
            "and of the next 100"
        );
        clock.advance(30 * SEC - Duration::from_nanos(1));
        assert_eq!(
            r.ramp_percent("db"),
            percent,
            "still on the step just before its end"
        );
        clock.advance(Duration::from_nanos(1));
    }
    assert_eq!(r.ramp_percent("db"), 100);
    assert_eq!(r.state("db"), Some(Healthy), "the ramp ended at 100 %");
    assert_eq!(admitted(&r, "db", 100), 100);
}

#[test]
fn admissions_are_spread_evenly_within_a_step() {
    let (r, _clock) = manual();
    r.configure(
        "db",
        RecoveryConfig {
            ramp: RampConfig::new([25, 100], SEC).unwrap(),
            ..Default::default()
        },
    )
    .unwrap();
    to_recovering(&r, "db");
    let pattern: Vec<bool> = (0..8).map(|_| r.should_route_to("db")).collect();
    assert_eq!(
        pattern,
        [true, false, false, false, true, false, false, false]
    );
}

#[test]
fn the_default_ramp_is_five_equal_steps_thirty_seconds_apart() {
    let (r, clock) = manual();
    to_recovering(&r, "db");
    for percent in [20, 40, 60, 80] {
        assert_eq!(r.ramp_percent("db"), percent);
        assert_eq!(admitted(&r, "db", 100), usize::from(percent));
        clock.advance(30 * SEC);
    }
    assert_eq!(r.state("db"), Some(Healthy));
}

#[test]
fn a_clock_going_back_during_a_ramp_reads_the_first_step() {
    let (r, clock) = manual();
    clock.set(100 * SEC);
    to_recovering(&r, "db");
    clock.advance(65 * SEC);
    assert_eq!(r.ramp_percent("db"), 60);
    clock.set(Duration::ZERO);
    assert_eq!(r.ramp_percent("db"), 20);
    assert_eq!(r.state("db"), Some(Recovering));
}

// --- health checks on paused time -----------------------------------------------------

#[tokio::test(start_paused = true)]
async fn failing_checks_degrade_then_fail_and_passing_ones_bring_it_back() {
    let r = Recovery::new();
    let up = Arc::new(AtomicU32::new(0));
    let flag = up.clone();
    r.register_check("db", 10 * SEC, move || {
        let up = flag.load(Ordering::SeqCst) == 1;
        async move {
            if up {
                Ok(())
            } else {
                Err("connection refused")
            }
        }
    })
    .unwrap();

    for run in 1..=10 {
        let report = r.run_checks().await;
        assert_eq!(report.checks.len(), 1, "run {run} is due");
        let expected = match run {
            1..=2 => Healthy,
            3..=9 => Degraded,
            _ => Failed,
        };
        assert_eq!(report.checks[0].state, expected, "after run {run}");
        assert_eq!(
            r.run_checks().await.checks.len(),
            0,
            "not due again before its interval"
        );
        tokio::time::advance(10 * SEC).await;
    }
    up.store(1, Ordering::SeqCst);
    for _ in 0..3 {
        r.run_checks().await;
        tokio::time::advance(10 * SEC).await;
    }
    assert_eq!(r.state("db"), Some(Recovering));
    let snap = r.snapshot();
    assert_eq!(snap.checks[0].error, None);
    assert_eq!(snap.service("db").unwrap().consecutive_successes, 3);
}

#[tokio::test(start_paused = true)]
async fn checks_run_at_once_and_each_latency_is_its_own() {
    let r = Recovery::new();
    for (name, ms) in [("fast", 100), ("slow", 800)] {
        r.register_check(name, 10 * SEC, move || async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<(), String>(())
        })
        .unwrap();
    }
    let start = tokio::time::Instant::now();
    let report = r.check_all().await;
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(800),
        "concurrent, not 900 ms"
    );
    assert_eq!(
        report.check("fast").unwrap().latency,
        Duration::from_millis(100)
    );
    assert_eq!(
        report.check("slow").unwrap().latency,
        Duration::from_millis(800)
    );
}

#[tokio::test(start_paused = true)]
async fn a_check_past_its_timeout_fails() {
    let r = Recovery::new();
    let config = CheckConfig {
        interval: 10 * SEC,
        timeout: 2 * SEC,
    };
    r.register_check_with("hung", config, || async {
        std::future::pending::<()>().await;
        Ok::<(), String>(())
    })
    .unwrap();
    let start = tokio::time::Instant::now();
    let report = r.check_all().await;
    assert_eq!(start.elapsed(), 2 * SEC);
    let hung = report.check("hung").unwrap();
    assert_eq!(
        (hung.ok, hung.error.as_deref()),
        (false, Some("timed out after 2s"))
    );
    assert_eq!(hung.latency, 2 * SEC);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_check_fails_and_does_not_wedge_the_manager() {
    let r = Recovery::new();
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    r.register_check("in_future", SEC, move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::task::yield_now().await;
            panic!("pool poisoned");
            #[allow(unreachable_code)]
            Ok::<(), String>(())
        }
    })
    .unwrap();
    r.register_check(
        "in_closure",
        SEC,
        || -> std::future::Ready<Result<(), String>> { panic!("bad config") },
    )
    .unwrap();
    r.register_check("fine", SEC, || async { Ok::<(), String>(()) })
        .unwrap();

    for _ in 0..3 {
        let report = r.check_all().await;
        assert_eq!(
            report.check("in_future").unwrap().error.as_deref(),
            Some("health check panicked: pool poisoned")
        );
        assert_eq!(
            report.check("in_closure").unwrap().error.as_deref(),
            Some("health check panicked: bad config")
        );
        assert!(report.check("fine").unwrap().ok);
        assert_eq!(
            (report.passed, report.failed, report.healthy),
            (1, 2, false)
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3, "run again each time");
    assert_eq!(r.state("in_future"), Some(Degraded));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_run_frees_its_checks() {
    let r = Recovery::new();
    r.register_check_with(
        "slow",
        CheckConfig {
            interval: SEC,
            timeout: 60 * SEC,
        },
        || async {
            tokio::time::sleep(10 * SEC).await;
            Ok::<(), String>(())
        },
    )
    .unwrap();
    assert!(
        tokio::time::timeout(SEC, r.check_all()).await.is_err(),
        "dropped mid-run"
    );
    let report = r.check_all().await;
    assert_eq!(report.checks.len(), 1, "the check is free to run again");
    assert!(report.healthy);
}

#[tokio::test(start_paused = true)]
async fn a_run_in_flight_is_not_started_twice() {
    let r = Recovery::new();
    let runs = Arc::new(AtomicU32::new(0));
    let count = runs.clone();
    r.register_check("slow", SEC, move || {
        count.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok::<(), String>(())
        }
    })
    .unwrap();
    let (a, b) = tokio::join!(r.check_all(), r.check_all());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(a.checks.len() + b.checks.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn spawn_runs_due_checks_on_its_own() {
    let r = Recovery::new();
    let runs = Arc::new(AtomicU32::new(0));
    let count = runs.clone();
    r.register_check("db", 10 * SEC, move || {
        count.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("down") }
    })
    .unwrap();
    let task = r.spawn(SEC).unwrap();
    tokio::time::sleep(Duration::from_millis(25_500)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3, "at 0, 10 and 20 s");
    assert_eq!(r.state("db"), Some(Degraded));
    task.abort();
    assert_eq!(r.spawn(Duration::ZERO).unwrap_err().field(), "tick");
}

#[test]
fn spawn_outside_a_runtime_is_an_error_not_a_panic() {
    let err = Recovery::new().spawn(SEC).unwrap_err();
    assert_eq!(err.field(), "runtime");
}

#[tokio::test(start_paused = true)]
async fn the_suite_report_serializes_every_check() {
    let r = Recovery::new();
    r.register_check("b.queue", 10 * SEC, || async { Err::<(), _>("full") })
        .unwrap();
    r.register_check("a.db", 10 * SEC, || async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        Ok::<(), String>(())
    })
    .unwrap();
    let report = r.check_all().await;
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        json!({
            "healthy": false,
            "passed": 1,
            "failed": 1,
            "checks": [
                {"name": "a.db", "ok": true, "error": null, "latency": "1s 500ms",
                 "state": "healthy", "traffic_percent": 100},
                {"name": "b.queue", "ok": false, "error": "full", "latency": "0s",
                 "state": "healthy", "traffic_percent": 100},
            ]
        })
    );
    assert_eq!(
        serde_json::to_value(&r.snapshot().checks).unwrap(),
        serde_json::to_value(&report.checks).unwrap()
    );
}

// --- slow start after a real breaker --------------------------------------------------

#[test]
fn slow_start_ramps_traffic_after_a_real_breaker_closes() {
    let name = "tests.recovery.slow_start";
    let (reg, clock) = manual_registry();
    let breaker = reg
        .register(
            name,
            BreakerConfig {
                failure_threshold: 1,
                success_threshold: 1,
                recovery_timeout: 5 * SEC,
                ..Default::default()
            },
        )
        .unwrap();
    let r = reg.recovery();
    r.slow_start_after_breaker(name, RampConfig::new([10, 50, 100], 20 * SEC).unwrap())
        .unwrap();
    assert_eq!(
        admitted(r, name, 100),
        100,
        "closed and never opened: no ramp"
    );

    breaker.acquire().unwrap().record_failure();
    assert_eq!(breaker.state(), BreakerState::Open);
    assert!(r.should_route_to(name), "the breaker refuses calls itself");

    // Past the recovery timeout (kept at millisecond resolution by the breaker).
    clock.advance(6 * SEC);
    breaker.acquire().unwrap().record_success(); // the trial closes it
    assert_eq!(breaker.state(), BreakerState::Closed);

    assert_eq!(r.ramp_percent(name), 10);
    assert_eq!(admitted(r, name, 100), 10);
    clock.advance(20 * SEC);
    assert_eq!(r.ramp_percent(name), 50);
    assert_eq!(admitted(r, name, 100), 50);
    clock.advance(20 * SEC);
    assert_eq!(admitted(r, name, 100), 100, "the ramp is over");
    assert!(
        !r.snapshot()
            .service(name)
            .unwrap()
            .slow_start
            .as_ref()
            .unwrap()
            .ramping
    );
}

#[test]
fn slow_start_is_cancelled_when_the_breaker_reopens_and_restarts_at_the_next_close() {
    let name = "tests.recovery.slow_start_reopen";
    let (reg, clock) = manual_registry();
    let breaker = reg
        .register(
            name,
            BreakerConfig {
                failure_threshold: 1,
                ..Default::default()
            },
        )
        .unwrap();
    let r = reg.recovery();
    r.slow_start_after_breaker(name, RampConfig::new([25, 100], 10 * SEC).unwrap())
        .unwrap();
    breaker.force_open();
    assert!(r.should_route_to(name));
    breaker.reset();
    assert_eq!(r.ramp_percent(name), 25);
    clock.advance(5 * SEC);
    breaker.acquire().unwrap().record_failure(); // opens again
    assert_eq!(r.ramp_percent(name), 100, "cancelled while not closed");
    breaker.reset();
    assert_eq!(r.ramp_percent(name), 25, "a new ramp from the start");
    clock.advance(9 * SEC);
    assert_eq!(r.ramp_percent(name), 25);
    clock.advance(SEC);
    assert_eq!(r.ramp_percent(name), 100);
}

#[test]
fn slow_start_waits_for_a_breaker_registered_later_and_refuses_a_bad_ramp() {
    let name = "tests.recovery.slow_start_later";
    let (reg, _clock) = manual_registry();
    let r = reg.recovery();
    r.slow_start_after_breaker(name, RampConfig::new([50, 100], SEC).unwrap())
        .unwrap();
    assert!(r.should_route_to(name));
    let breaker = reg.register(name, BreakerConfig::default()).unwrap();
    breaker.force_open();
    assert!(r.should_route_to(name));
    breaker.reset();
    assert_eq!(admitted(r, name, 100), 50);

    let bad = RampConfig {
        steps: vec![100, 50],
        step_interval: SEC,
    };
    assert_eq!(
        r.slow_start_after_breaker(name, bad).unwrap_err().field(),
        "steps"
    );
}

#[test]
fn slow_start_follows_the_breakers_of_its_own_registry_only() {
    let name = "tests.recovery.slow_start_own_registry";
    // The global registry's recovery follows the global registry's breakers...
    let global = registry().register(name, BreakerConfig::default()).unwrap();
    resilience::recovery()
        .slow_start_after_breaker(name, RampConfig::new([50, 100], SEC).unwrap())
        .unwrap();
    // ...and another registry's recovery, its own: a breaker of the same name there.
    let (reg, _clock) = manual_registry();
    let own = reg.register(name, BreakerConfig::default()).unwrap();
    reg.recovery()
        .slow_start_after_breaker(name, RampConfig::new([25, 100], SEC).unwrap())
        .unwrap();
    own.force_open();
    assert!(reg.recovery().should_route_to(name)); // seen open
    assert!(resilience::recovery().should_route_to(name));
    own.reset();
    assert_eq!(reg.recovery().ramp_percent(name), 25);
    assert_eq!(
        resilience::recovery().ramp_percent(name),
        100,
        "the global breaker never opened"
    );
    global.force_open();
    assert!(resilience::recovery().should_route_to(name));
    global.reset();
    assert_eq!(resilience::recovery().ramp_percent(name), 50);
    // A recovery made alone belongs to no registry: asking it is an error.
    let (alone, _) = manual();
    let err = alone
        .slow_start_after_breaker(name, RampConfig::default())
        .unwrap_err();
    assert_eq!(err.field(), "breaker");
}

// --- snapshot and tracing -------------------------------------------------------------

#[test]
fn the_snapshot_serializes_every_service() {
    let (r, clock) = manual();
    to_recovering(&r, "db");
    clock.advance(45 * SEC);
    fail(&r, "cache", 1);
    let json = serde_json::to_value(r.snapshot()).unwrap();
    assert_eq!(json["services"][0]["name"], "cache");
    assert_eq!(json["services"][0]["state"], "healthy");
    assert_eq!(json["services"][0]["last_error"], "failure reported");
    assert_eq!(json["services"][0]["ramp_elapsed"], serde_json::Value::Null);
    let db = &json["services"][1];
    assert_eq!(
        (
            db["state"].clone(),
            db["traffic_percent"].clone(),
            db["consecutive_successes"].clone()
        ),
        (json!("recovering"), json!(40), json!(3))
    );
    assert_eq!(db["in_state_for"], "45s");
    assert_eq!(db["ramp_elapsed"], "45s");
    assert_eq!(db["config"]["ramp"]["steps"], json!([20, 40, 60, 80, 100]));
    assert_eq!(db["config"]["ramp"]["step_interval"], "30s");
    assert_eq!(db["slow_start"], serde_json::Value::Null);
}

#[derive(Default)]
struct Events(Mutex<Vec<String>>);

struct Recorder(Arc<Events>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        #[derive(Default)]
        struct Fields(String, String, String);
        impl tracing::field::Visit for Fields {
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                if f.name() == "service" {
                    self.0 = v.into();
                }
            }
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                match f.name() {
                    "from" => self.1 = format!("{v:?}"),
                    "to" => self.2 = format!("{v:?}"),
                    _ => {}
                }
            }
        }
        if event.metadata().target() == "resilience::recovery" {
            let mut f = Fields::default();
            event.record(&mut f);
            if !f.2.is_empty() {
                self.0
                     .0
                    .lock()
                    .unwrap()
                    .push(format!("{}:{}->{}", f.0, f.1, f.2));
            }
        }
    }
}

#[test]
fn every_state_change_is_a_tracing_event() {
    use tracing_subscriber::layer::SubscriberExt;
    let events = Arc::new(Events::default());
    let subscriber = tracing_subscriber::registry().with(Recorder(events.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let (r, clock) = manual();
        fail(&r, "svc", 10);
        pass(&r, "svc", 3);
        r.report_failure("svc");
        pass(&r, "svc", 3);
        clock.advance(120 * SEC);
        r.state("svc");
        fail(&r, "svc", 3);
        pass(&r, "svc", 3);
    });
    assert_eq!(
        *events.0.lock().unwrap(),
        [
            "svc:healthy->degraded",
            "svc:degraded->failed",
            "svc:failed->recovering",
            "svc:recovering->degraded",
            "svc:degraded->recovering",
            "svc:recovering->healthy",
            "svc:healthy->degraded",
            "svc:degraded->healthy",
        ]
    );
}
