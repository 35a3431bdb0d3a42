//! The breaker's state machine at run time, driven by hand on a manual clock.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience::breaker::{Breaker, WindowKind};
use resilience::clock::ManualClock;
use resilience::{BreakerConfig, BreakerState, CircuitOpen, MarcusError};

const SEC: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

#[derive(Debug, PartialEq)]
enum CallError {
    Down,
    Open(CircuitOpen),
}

impl From<CircuitOpen> for CallError {
    fn from(open: CircuitOpen) -> Self {
        CallError::Open(open)
    }
}

fn breaker(config: BreakerConfig) -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let b = Breaker::new("svc", config)
        .expect("valid config")
        .with_clock(Arc::new(clock.clone()));
    (b, clock)
}

fn fail(b: &Breaker) {
    b.acquire().expect("admitted").record_failure();
}

fn succeed(b: &Breaker) {
    b.acquire().expect("admitted").record_success();
}

#[test]
fn consecutive_failures_open_it_and_a_success_starts_the_count_over() {
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 3,
        ..Default::default()
    });
    fail(&b);
    fail(&b);
    succeed(&b);
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().consecutive_failures, 2);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(b.snapshot().times_opened, 1);
}

#[test]
fn an_open_breaker_refuses_without_running_the_body_and_says_when() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: 30 * SEC,
        ..Default::default()
    });
    assert_eq!(
        b.call(|| Err::<(), _>(CallError::Down)),
        Err(CallError::Down)
    );
    clock.advance(10 * SEC);

    let mut ran = false;
    let refused = b.call(|| {
        ran = true;
        Ok::<_, CallError>(())
    });
    assert!(!ran, "the body ran while open");
    let Err(CallError::Open(open)) = refused else {
        panic!("not refused: {refused:?}")
    };
    assert_eq!(open.name, "svc");
    assert_eq!(open.state, BreakerState::Open);
    assert_eq!(open.retry_after, Some(20 * SEC));
    assert_eq!(open.code(), "CIRCUIT_OPEN_ERROR");
    assert!(!open.retryable());
    assert_eq!(MarcusError::retry_after(&open), Some(20 * SEC));
    assert_eq!(b.snapshot().rejections, 1);
    assert_eq!(b.snapshot().retry_after, Some(20 * SEC));
}

#[test]
fn half_open_after_the_timeout_then_closed_after_enough_successes() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        success_threshold: 2,
        recovery_timeout: 5 * SEC,
        ..Default::default()
    });
    fail(&b);
    clock.advance(5 * SEC - MS);
    assert!(b.acquire().is_err(), "a trial before the timeout");

    clock.advance(MS);
    let trial = b.acquire().expect("a trial after the timeout");
    assert!(trial.is_trial());
    assert_eq!(b.state(), BreakerState::HalfOpen);
    trial.record_success();
    assert_eq!(
        (b.state(), b.snapshot().half_open_successes),
        (BreakerState::HalfOpen, 1)
    );
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().consecutive_failures, 0);
}

#[test]
fn a_failed_trial_reopens_for_a_full_timeout() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: 5 * SEC,
        ..Default::default()
    });
    fail(&b);
    clock.advance(7 * SEC);
    fail(&b); // the trial
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(b.acquire().unwrap_err().retry_after, Some(5 * SEC));
    assert_eq!(b.snapshot().times_opened, 2);
}

#[test]
fn half_open_admits_its_maximum_and_a_dropped_trial_gives_its_place_back() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        half_open_max_calls: 2,
        success_threshold: 3,
        recovery_timeout: SEC,
        ..Default::default()
    });
    fail(&b);
    clock.advance(SEC);
    let first = b.acquire().expect("trial 1");
    let second = b.acquire().expect("trial 2");
    let full = b.acquire().unwrap_err();
    assert_eq!(
        (full.state, full.retry_after),
        (BreakerState::HalfOpen, None)
    );
    assert_eq!(b.snapshot().half_open_in_flight, 2);

    drop(second); // a cancelled future: no outcome, place back
    assert_eq!(b.snapshot().half_open_in_flight, 1);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    let third = b.acquire().expect("the freed place");
    first.record_success();
    third.record_success();
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_trial_whose_future_is_dropped_gives_its_place_back() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: SEC,
        ..Default::default()
    });
    fail(&b);
    clock.advance(SEC);
    let b = Arc::new(b);
    let call = {
        let b = b.clone();
        async move {
            let permit = b.acquire().expect("the trial");
            std::future::pending::<()>().await;
            permit.record_success();
        }
    };
    let timed_out = tokio::time::timeout(Duration::from_millis(1), call).await;
    assert!(timed_out.is_err());
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.snapshot().half_open_in_flight, 0);
    assert!(b.acquire().expect("the place is free again").is_trial());
}

#[test]
fn a_panic_counts_as_a_failure_and_unwinds_on() {
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 1,
        ..Default::default()
    });
    let caught = catch_unwind(AssertUnwindSafe(|| {
        b.call(|| -> Result<(), CallError> { panic!("boom") })
    }));
    assert!(caught.is_err(), "the panic did not unwind");
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_panicking_record_if_counts_as_a_failure_and_wedges_nothing() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: SEC,
        ..Default::default()
    });
    let outcome: Result<(), CallError> = Err(CallError::Down);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        b.acquire()
            .unwrap()
            .record(&outcome, |_| panic!("bad predicate"))
    }));
    assert!(caught.is_err());
    assert_eq!(b.state(), BreakerState::Open);
    clock.advance(SEC);
    succeed(&b);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn errors_record_if_refuses_count_as_successes() {
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 2,
        ..Default::default()
    });
    fail(&b);
    let not_found: Result<(), &str> = Err("404");
    b.acquire()
        .unwrap()
        .record(&not_found, |e| !e.starts_with('4'));
    assert_eq!(b.snapshot().consecutive_failures, 0);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_time_window_opens_on_n_failures_within_it_and_not_when_spread_out() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 100,
        window: Some(10 * SEC),
        max_failures_per_window: Some(3),
        ..Default::default()
    });
    // Spread: 3 failures, each pair 6 s apart, with successes between: never 3 in 10 s.
    for _ in 0..4 {
        fail(&b);
        succeed(&b);
        clock.advance(6 * SEC);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().failures_in_window, 1);

    fail(&b);
    clock.advance(4 * SEC);
    fail(&b); // the oldest of three is exactly 10 s old: outside the window
    assert_eq!(b.state(), BreakerState::Closed);
    clock.advance(2 * SEC);
    succeed(&b);
    fail(&b); // 3 within 10 s, consecutive or not
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_failure_rate_opens_over_the_count_window_once_minimum_calls_are_seen() {
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 100,
        failure_rate: Some(50.0),
        minimum_calls: 4,
        window_size: 10,
        ..Default::default()
    });
    fail(&b);
    fail(&b);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed, "below minimum_calls");
    // 2 of 4: the success that makes up `minimum_calls` meets the rate (checked at
    // every recorded outcome).
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_failure_rate_below_the_threshold_keeps_it_closed_as_old_calls_leave() {
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 100,
        failure_rate: Some(50.0),
        minimum_calls: 4,
        window_size: 4,
        ..Default::default()
    });
    for _ in 0..20 {
        succeed(&b);
        succeed(&b);
        succeed(&b);
        fail(&b); // 25 %
    }
    let s = b.snapshot();
    assert_eq!(
        (s.state, s.window_calls, s.window_failures),
        (BreakerState::Closed, 4, 1)
    );
}

/// `rate_window`: the rates are over the calls of the last 64 s (slices of 1 s), so a
/// quiet minute forgets a morning's failures, where the last `window_size` calls would
/// keep them.
#[test]
fn a_time_window_forgets_calls_older_than_the_window() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 100,
        failure_rate: Some(50.0),
        minimum_calls: 4,
        rate_window: Some(64 * SEC),
        ..Default::default()
    });
    clock.set(1_000 * SEC);
    for _ in 0..3 {
        fail(&b);
    }
    let s = b.snapshot();
    assert_eq!(s.window_kind, Some(WindowKind::Time));
    assert_eq!(
        (s.window_calls, s.window_failures),
        (3, 3),
        "short of minimum_calls"
    );

    // 63.5 s later the failures are still in the window; a second more, they are not.
    clock.advance(63 * SEC + 500 * MS);
    assert_eq!(b.snapshot().window_failures, 3);
    clock.advance(SEC);
    let s = b.snapshot();
    assert_eq!((s.window_calls, s.window_failures), (0, 0), "forgotten");

    // So a success now finds one call, not 4 calls of which 3 failed (which would open
    // it at 75 %), and three successes and a failure are 25 %.
    for _ in 0..3 {
        succeed(&b);
    }
    fail(&b);
    let s = b.snapshot();
    assert_eq!(
        (s.state, s.window_calls, s.window_failures),
        (BreakerState::Closed, 4, 1)
    );
    assert_eq!(s.failure_rate_percent, Some(25.0));
}

/// The same calls over a count window keep the old failures however long ago they were.
#[test]
fn a_count_window_keeps_old_failures_where_a_time_window_forgets_them() {
    let config = BreakerConfig {
        failure_threshold: 100,
        failure_rate: Some(50.0),
        minimum_calls: 4,
        ..Default::default()
    };
    for (rate_window, opened) in [(None, true), (Some(60 * SEC), false)] {
        let (b, clock) = breaker(BreakerConfig {
            rate_window,
            ..config.clone()
        });
        fail(&b);
        fail(&b);
        clock.advance(3_600 * SEC);
        succeed(&b);
        fail(&b);
        assert_eq!(b.state() == BreakerState::Open, opened, "{rate_window:?}");
    }
}

/// `recovery_factor = 2, max_recovery_timeout = 3s` over `recovery_timeout = 1s`: open
/// 1 s, then each failed trial 2 s, 3 s (capped), 3 s; a closing starts again at 1 s.
#[test]
fn the_open_period_grows_with_each_failed_trial_up_to_its_cap_and_a_closing_resets_it() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        success_threshold: 1,
        recovery_timeout: SEC,
        recovery_factor: 2.0,
        max_recovery_timeout: Some(3 * SEC),
        ..Default::default()
    });
    let open_for = |b: &Breaker| {
        let refused = b.acquire().expect_err("open");
        assert_eq!(b.snapshot().open_period, refused.retry_after.unwrap());
        refused.retry_after.unwrap()
    };
    fail(&b);
    let mut periods = vec![open_for(&b)];
    for _ in 0..3 {
        clock.advance(*periods.last().unwrap());
        let trial = b.acquire().expect("the trial");
        assert!(trial.is_trial());
        trial.record_failure();
        periods.push(open_for(&b));
    }
    assert_eq!(periods, [SEC, 2 * SEC, 3 * SEC, 3 * SEC]);
    assert_eq!(b.snapshot().times_opened, 4);

    // One millisecond short of the period: still refused, and says so.
    clock.advance(3 * SEC - MS);
    assert_eq!(b.acquire().unwrap_err().retry_after, Some(MS));
    clock.advance(MS);
    succeed(&b); // the trial closes it
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().open_period, SEC);
    fail(&b);
    assert_eq!(
        open_for(&b),
        SEC,
        "a closing starts again at recovery_timeout"
    );
}

/// Half-open, the snapshot says the period a failed trial would bring; a reset, a
/// forced open or a trial that closes it all start the growth again.
#[test]
fn the_snapshot_says_the_next_period_while_half_open_and_a_reset_starts_over() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: 10 * SEC,
        recovery_factor: 1.5,
        ..Default::default()
    });
    fail(&b);
    clock.advance(10 * SEC);
    b.acquire().expect("the trial").record_failure(); // 15 s
    clock.advance(15 * SEC);
    let trial = b.acquire().expect("the trial");
    assert_eq!(b.snapshot().open_period, 22_500 * MS, "if this trial fails");
    drop(trial);
    b.reset();
    fail(&b);
    assert_eq!(b.snapshot().open_period, 10 * SEC);
    assert_eq!(b.acquire().unwrap_err().retry_after, Some(10 * SEC));
}

#[test]
fn a_slow_call_rate_opens_it() {
    let (b, clock) = breaker(BreakerConfig {
        slow_call: Some(100 * MS),
        slow_call_rate: Some(50.0),
        minimum_calls: 2,
        window_size: 4,
        ..Default::default()
    });
    let fast = b.acquire().unwrap();
    clock.advance(100 * MS); // exactly the limit: not slow
    fast.record_success();
    let slow = b.acquire().unwrap();
    clock.advance(101 * MS);
    slow.record_success();
    let s = b.snapshot();
    assert_eq!(s.state, BreakerState::Open, "{s:?}");
}

#[test]
fn reset_force_open_and_disable() {
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 1,
        ..Default::default()
    });
    b.force_open();
    let open = b.acquire().unwrap_err();
    assert_eq!(
        (open.state, open.retry_after),
        (BreakerState::ForcedOpen, None)
    );
    b.reset();
    assert_eq!(b.state(), BreakerState::Closed);

    b.disable();
    for _ in 0..10 {
        fail(&b);
    }
    assert_eq!(b.state(), BreakerState::Disabled);
    assert_eq!(b.snapshot().consecutive_failures, 0);

    b.reset();
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
    b.reset();
    assert_eq!(b.snapshot().consecutive_failures, 0);
    succeed(&b);
}

#[test]
fn a_permit_from_before_a_reset_no_longer_counts() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: SEC,
        ..Default::default()
    });
    let old = b.acquire().unwrap();
    b.reset();
    old.record_failure();
    assert_eq!(b.state(), BreakerState::Closed);

    // A trial admitted before a re-open does not touch the next half-open period.
    fail(&b);
    clock.advance(SEC);
    let trial = b.acquire().unwrap();
    b.force_open();
    b.reset();
    fail(&b);
    clock.advance(SEC);
    let new_trial = b.acquire().unwrap();
    drop(trial);
    assert_eq!(b.snapshot().half_open_in_flight, 1);
    new_trial.record_success();
}

#[test]
fn a_clock_going_backwards_leaves_it_valid() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        success_threshold: 1,
        recovery_timeout: 10 * SEC,
        ..Default::default()
    });
    clock.set(3600 * SEC);
    fail(&b);
    clock.set(SEC); // an hour back
    let open = b.acquire().unwrap_err();
    assert_eq!(
        open.retry_after,
        Some(10 * SEC),
        "never longer than one timeout"
    );
    clock.advance(10 * SEC);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);

    // Slow-call timing with a clock going back: not slow, no overflow.
    let (b, clock) = breaker(BreakerConfig {
        slow_call: Some(MS),
        slow_call_rate: Some(1.0),
        minimum_calls: 1,
        window_size: 1,
        ..Default::default()
    });
    clock.set(SEC);
    let p = b.acquire().unwrap();
    clock.set(Duration::ZERO);
    p.record_success();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn two_threads_hammering_one_closed_breaker() {
    let b = Arc::new(Breaker::new("hammer", BreakerConfig::default()).unwrap());
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let b = b.clone();
            std::thread::spawn(move || {
                let mut ok = 0u32;
                for i in 0..100_000u32 {
                    // A failure now and then, never five in a row.
                    let r = b.call(|| {
                        if (i + t) % 7 == 0 {
                            Err(CallError::Down)
                        } else {
                            Ok(())
                        }
                    });
                    ok += u32::from(r.is_ok());
                }
                ok
            })
        })
        .collect();
    let ok: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let s = b.snapshot();
    assert_eq!(s.state, BreakerState::Closed);
    assert_eq!((s.rejections, s.times_opened), (0, 0));
    assert!(ok > 170_000, "{ok}");
}

#[test]
fn configure_applies_at_once_and_windows_can_grow() {
    let (b, _) = breaker(BreakerConfig::default());
    fail(&b);
    b.configure(BreakerConfig {
        failure_threshold: 2,
        ..Default::default()
    })
    .unwrap();
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
    b.reset();

    // A rate window turned on later, then grown beyond its first size.
    let rate = |size| BreakerConfig {
        failure_threshold: 1000,
        failure_rate: Some(100.0),
        minimum_calls: size,
        window_size: size,
        ..Default::default()
    };
    b.configure(rate(2)).unwrap();
    b.configure(rate(50)).unwrap();
    for _ in 0..49 {
        fail(&b);
    }
    assert_eq!(
        (b.state(), b.snapshot().window_calls),
        (BreakerState::Closed, 49)
    );
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(b.config(), rate(50));
}

#[test]
fn invalid_configurations_name_the_field_and_the_value() {
    let refused = |c: BreakerConfig| {
        let e = Breaker::new("x", c.clone()).unwrap_err();
        let b = Breaker::new("x", BreakerConfig::default()).unwrap();
        assert_eq!(b.configure(c).unwrap_err(), e);
        assert_eq!(
            b.config(),
            BreakerConfig::default(),
            "a refused config changed nothing"
        );
        (e.field(), e.value().to_owned())
    };
    let d = BreakerConfig::default;
    assert_eq!(
        refused(BreakerConfig {
            failure_threshold: 0,
            ..d()
        }),
        ("failure_threshold", "0".into())
    );
    assert_eq!(
        refused(BreakerConfig {
            failure_rate: Some(150.0),
            ..d()
        }),
        ("failure_rate", "150.0".into())
    );
    assert_eq!(
        refused(BreakerConfig {
            recovery_timeout: Duration::ZERO,
            ..d()
        }),
        ("recovery_timeout", "0ns".into())
    );
    assert_eq!(
        refused(BreakerConfig {
            minimum_calls: 200,
            ..d()
        }),
        ("minimum_calls", "200".into())
    );
    let e = Breaker::new(
        "x",
        BreakerConfig {
            half_open_max_calls: 0,
            ..d()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid `half_open_max_calls` = 0: must be at least 1"
    );
}

#[derive(Default)]
struct Events(Mutex<Vec<(String, String, String)>>);

struct Recorder(Arc<Events>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        #[derive(Default)]
        struct Fields(String, String, String);
        impl tracing::field::Visit for Fields {
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                match f.name() {
                    "name" => self.0 = v.into(),
                    "from" => self.1 = v.into(),
                    "to" => self.2 = v.into(),
                    _ => {}
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        if event.metadata().target() == "resilience::breaker" {
            let mut fields = Fields::default();
            event.record(&mut fields);
            self.0
                 .0
                .lock()
                .unwrap()
                .push((fields.0, fields.1, fields.2));
        }
    }
}

#[test]
fn every_state_change_is_a_tracing_event() {
    use tracing_subscriber::layer::SubscriberExt;
    let events = Arc::new(Events::default());
    let subscriber = tracing_subscriber::registry().with(Recorder(events.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let (b, clock) = breaker(BreakerConfig {
            failure_threshold: 1,
            success_threshold: 1,
            recovery_timeout: SEC,
            ..Default::default()
        });
        fail(&b);
        clock.advance(SEC);
        succeed(&b);
        b.force_open();
        b.disable();
        b.reset();
    });
    let seen: Vec<_> = events
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(n, f, t)| format!("{n}:{f}->{t}"))
        .collect();
    assert_eq!(
        seen,
        [
            "svc:closed->open",
            "svc:open->half_open",
            "svc:half_open->closed",
            "svc:closed->forced_open",
            "svc:forced_open->disabled",
            "svc:disabled->closed",
        ]
    );
}

#[test]
fn circuit_open_is_a_marcus_error_with_remediation() {
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 1,
        ..Default::default()
    });
    fail(&b);
    let open = b.acquire().unwrap_err();
    let report = open.report();
    let mcp = report.to_mcp_json();
    assert_eq!(mcp["error"]["code"], "CIRCUIT_OPEN_ERROR");
    assert_eq!(mcp["error"]["retryable"], false);
    assert_eq!(open.category(), resilience::Category::Integration);
    assert!(open.remediation().immediate.is_some());
    assert!(open
        .to_string()
        .starts_with("circuit breaker `svc` is open; next trial in"));
}
