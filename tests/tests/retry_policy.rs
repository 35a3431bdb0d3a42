//! The retry runtime without the attribute: backoff arithmetic, jitter bounds over many
//! seeded draws, the schedule's limits, validation, and `Retrying::next` driven by hand
//! the way the generated code drives it (on paused tokio time where time matters).
// `(&&&&&Probe::new(e)).view()` is the generated code's autoref probe, written as the macro
// writes it: for some error types fewer `&` would do, which is the point of the probe.
#![allow(clippy::needless_borrow)]

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use resilience::__private::{Probe, RetrySite, Retrying, View, ViewError, ViewMarcus, ViewOpaque};
use resilience::retry::{AdaptiveAttempts, Backoff, GiveUp, Jitter};
use resilience::{Category, ErrorContext, MarcusError, RetryConfig};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ---------------------------------------------------------------------------------------
// Error types: one `MarcusError` with a context, one plain std error.

#[derive(Debug, thiserror::Error)]
#[error("upstream flaked")]
struct Flaky {
    retryable: bool,
    retry_after: Option<Duration>,
    ctx: Box<ErrorContext>,
}

impl Flaky {
    fn retryable() -> Self {
        Flaky {
            retryable: true,
            retry_after: None,
            ctx: Box::new(ErrorContext::new()),
        }
    }
    fn fatal() -> Self {
        Flaky {
            retryable: false,
            ..Flaky::retryable()
        }
    }
    fn rate_limited(wait: Duration) -> Self {
        Flaky {
            retry_after: Some(wait),
            ..Flaky::retryable()
        }
    }
}

impl MarcusError for Flaky {
    fn code(&self) -> &'static str {
        "FLAKY"
    }
    fn category(&self) -> Category {
        Category::Transient
    }
    fn retryable(&self) -> bool {
        self.retryable
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    fn context(&self) -> Option<&ErrorContext> {
        Some(&self.ctx)
    }
    fn context_mut(&mut self) -> Option<&mut ErrorContext> {
        Some(&mut self.ctx)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("plain failure")]
struct Plain;

/// What one hand-driven call did: its result, the `(attempt, delay)` of each `on_retry`.
struct Run<T, E> {
    result: Result<T, E>,
    retries: Vec<(u32, Duration)>,
    calls: u32,
}

/// Drives a site synchronously without sleeping (the delays are only recorded), exactly
/// as the generated code does, with the view chosen by autoref at the concrete type.
macro_rules! drive {
    ($site:expr, $body:expr) => {
        drive!($site, $body, |_| None)
    };
    ($site:expr, $body:expr, $retry_if:expr) => {{
        let mut retrying = Retrying::new($site);
        let mut retries = Vec::new();
        let mut calls = 0u32;
        let body = $body;
        let result = loop {
            calls += 1;
            let outcome = body(calls);
            match retrying.next(
                outcome,
                |e| (&&&&&Probe::new(e)).view(),
                $retry_if,
                |_, attempt, delay| retries.push((attempt, delay)),
            ) {
                ControlFlow::Break(result) => break result,
                ControlFlow::Continue(_delay) => {}
            }
        };
        Run {
            result,
            retries,
            calls,
        }
    }};
}

// ---------------------------------------------------------------------------------------
// Backoff: exact delays and the cap.

#[test]
fn each_backoff_gives_its_exact_delays() {
    let none = Backoff::None;
    let fixed = Backoff::Fixed(ms(250));
    let linear = Backoff::Linear {
        base: ms(100),
        step: ms(50),
    };
    let exponential = Backoff::Exponential {
        base: ms(100),
        factor: 3.0,
        max: secs(60),
    };
    let first_five = |b: Backoff| (1..=5).map(|n| b.delay(n)).collect::<Vec<_>>();
    assert_eq!(first_five(none), [Duration::ZERO; 5]);
    assert_eq!(first_five(fixed), [ms(250); 5]);
    assert_eq!(first_five(linear), [100, 150, 200, 250, 300].map(ms));
    assert_eq!(first_five(exponential), [100, 300, 900, 2700, 8100].map(ms));
    // Nothing waits before the first call.
    assert_eq!(exponential.delay(0), Duration::ZERO);
}

#[test]
fn the_default_backoff_is_exponential_from_one_second_doubling_to_a_minute() {
    let delays: Vec<_> = (1..=8).map(|n| Backoff::default().delay(n)).collect();
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60].map(secs));
}

#[test]
fn a_fractional_factor_grows_by_that_factor() {
    let b = Backoff::Exponential {
        base: secs(1),
        factor: 1.5,
        max: secs(60),
    };
    assert_eq!(
        [b.delay(1), b.delay(2), b.delay(3)],
        [ms(1000), ms(1500), ms(2250)]
    );
}

#[test]
fn the_exponential_cap_holds_after_jitter_too() {
    let config = RetryConfig {
        max_attempts: 50,
        backoff: Backoff::Exponential {
            base: ms(100),
            factor: 2.0,
            max: secs(1),
        },
        jitter: Jitter::Spread(1.0),
        ..Default::default()
    };
    for seed in 0..200 {
        let delays: Vec<_> = config.schedule(SmallRng::seed_from_u64(seed)).collect();
        assert_eq!(delays.len(), 49);
        assert!(
            delays.iter().all(|&d| d <= secs(1)),
            "seed {seed}: {delays:?}"
        );
    }
}

#[test]
fn fixed_and_linear_have_no_cap() {
    assert_eq!(Backoff::Fixed(secs(3600)).cap(), None);
    let linear = Backoff::Linear {
        base: secs(1),
        step: secs(1),
    };
    assert_eq!(linear.cap(), None);
    assert_eq!(linear.delay(1000), secs(1000));
}

// ---------------------------------------------------------------------------------------
// Jitter: bounds of each kind over 10 000 seeded draws, and that the draws spread.

const DRAWS: usize = 10_000;

/// Draws `DRAWS` delays and checks they lie in `lo..=hi`, reach both ends of it (within
/// 1 % of its width) and average near its middle (within 2 %).
fn check_uniform(jitter: Jitter, delay: Duration, previous: Duration, lo: Duration, hi: Duration) {
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let draws: Vec<Duration> = (0..DRAWS)
        .map(|_| jitter.apply(delay, previous, &mut rng))
        .collect();
    let (min, max) = (draws.iter().min().copied(), draws.iter().max().copied());
    assert!(
        draws.iter().all(|d| (lo..=hi).contains(d)),
        "{jitter:?}: {min:?}..{max:?} not in {lo:?}..={hi:?}"
    );
    let width = (hi - lo).as_secs_f64();
    let (min, max) = (
        min.unwrap_or_default().as_secs_f64(),
        max.unwrap_or_default().as_secs_f64(),
    );
    assert!(
        min - lo.as_secs_f64() <= width * 0.01,
        "{jitter:?} never drew near {lo:?}"
    );
    assert!(
        hi.as_secs_f64() - max <= width * 0.01,
        "{jitter:?} never drew near {hi:?}"
    );
    let mean = draws.iter().map(Duration::as_secs_f64).sum::<f64>() / DRAWS as f64;
    let middle = (lo.as_secs_f64() + hi.as_secs_f64()) / 2.0;
    assert!(
        (mean - middle).abs() <= width * 0.02,
        "{jitter:?}: mean {mean} far from {middle}"
    );
}

#[test]
fn no_jitter_is_the_delay_itself() {
    let mut rng = SmallRng::seed_from_u64(1);
    assert!((0..DRAWS).all(|_| Jitter::None.apply(secs(2), secs(7), &mut rng) == secs(2)));
}

#[test]
fn full_jitter_draws_from_zero_to_the_delay() {
    check_uniform(Jitter::Full, secs(2), secs(2), Duration::ZERO, secs(2));
}

#[test]
fn equal_jitter_draws_from_half_the_delay_to_the_delay() {
    check_uniform(Jitter::Equal, secs(2), secs(2), secs(1), secs(2));
}

#[test]
fn decorrelated_jitter_draws_from_the_delay_to_three_times_the_previous() {
    check_uniform(Jitter::Decorrelated, secs(1), secs(2), secs(1), secs(6));
    // A previous delay shorter than a third of this one leaves only the delay itself.
    let mut rng = SmallRng::seed_from_u64(3);
    assert_eq!(
        Jitter::Decorrelated.apply(secs(9), secs(1), &mut rng),
        secs(9)
    );
}

#[test]
fn spread_jitter_draws_within_its_fraction_of_the_delay() {
    check_uniform(Jitter::Spread(0.5), secs(2), secs(2), secs(1), secs(3));
    check_uniform(Jitter::Spread(0.1), secs(10), secs(10), secs(9), secs(11));
    check_uniform(
        Jitter::Spread(1.0),
        secs(1),
        secs(1),
        Duration::ZERO,
        secs(2),
    );
}

#[test]
fn the_default_jitter_is_a_fifty_percent_spread() {
    assert_eq!(Jitter::default(), Jitter::Spread(0.5));
    assert_eq!(RetryConfig::default().jitter, Jitter::Spread(0.5));
}

#[test]
fn decorrelated_delays_follow_the_previous_draw_and_stay_capped() {
    let max = secs(10);
    let config = RetryConfig {
        max_attempts: 30,
        backoff: Backoff::Exponential {
            base: ms(100),
            factor: 2.0,
            max,
        },
        jitter: Jitter::Decorrelated,
        ..Default::default()
    };
    for seed in 0..100 {
        let delays: Vec<_> = config.schedule(SmallRng::seed_from_u64(seed)).collect();
        let mut previous = config.backoff.delay(1);
        for (i, &d) in delays.iter().enumerate() {
            let nominal = config.backoff.delay(i as u32 + 1);
            let hi = (previous * 3).max(nominal).min(max);
            assert!(
                d >= nominal.min(max) && d <= hi,
                "seed {seed} retry {}: {d:?}",
                i + 1
            );
            previous = d;
        }
    }
}

#[test]
fn decorrelated_jitter_on_a_fixed_backoff_stays_within_three_times_the_delay() {
    let config = RetryConfig {
        max_attempts: 40,
        backoff: Backoff::Fixed(secs(1)),
        jitter: Jitter::Decorrelated,
        ..Default::default()
    };
    let delays: Vec<_> = config.schedule(SmallRng::seed_from_u64(9)).collect();
    assert!(
        delays.iter().all(|&d| (secs(1)..=secs(3)).contains(&d)),
        "{delays:?}"
    );
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    let config = RetryConfig {
        max_attempts: 6,
        ..Default::default()
    };
    let a: Vec<_> = config.schedule(SmallRng::seed_from_u64(11)).collect();
    let b: Vec<_> = config.schedule(SmallRng::seed_from_u64(11)).collect();
    let c: Vec<_> = config.schedule(SmallRng::seed_from_u64(12)).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

// ---------------------------------------------------------------------------------------
// The schedule: attempts, retry_after, max_elapsed.

fn exact(max_attempts: u32, backoff: Backoff) -> RetryConfig {
    RetryConfig {
        max_attempts,
        backoff,
        jitter: Jitter::None,
        ..Default::default()
    }
}

#[test]
fn a_schedule_has_one_delay_fewer_than_attempts() {
    let seed = || SmallRng::seed_from_u64(0);
    assert_eq!(
        exact(1, Backoff::Fixed(secs(1))).schedule(seed()).count(),
        0
    );
    assert_eq!(
        exact(3, Backoff::Fixed(secs(1))).schedule(seed()).count(),
        2
    );
    assert_eq!(exact(10, Backoff::None).schedule(seed()).count(), 9);
}

#[test]
fn retry_after_is_a_floor_that_may_exceed_the_cap() {
    let config = exact(
        10,
        Backoff::Exponential {
            base: secs(1),
            factor: 2.0,
            max: secs(5),
        },
    );
    let mut schedule = config.schedule(SmallRng::seed_from_u64(0));
    // Longer than the backoff (and than its cap): the server asked.
    assert_eq!(
        schedule.next_delay(Duration::ZERO, Some(secs(30))),
        Ok(secs(30))
    );
    // Shorter than the backoff: the backoff stands.
    assert_eq!(schedule.next_delay(secs(30), Some(ms(10))), Ok(secs(2)));
    assert_eq!(schedule.next_delay(secs(32), None), Ok(secs(4)));
}

#[test]
fn max_elapsed_refuses_a_retry_that_would_start_at_or_after_it() {
    let config = RetryConfig {
        max_elapsed: Some(secs(10)),
        ..exact(100, Backoff::Fixed(secs(2)))
    };
    let mut schedule = config.schedule(SmallRng::seed_from_u64(0));
    assert_eq!(schedule.next_delay(secs(7), None), Ok(secs(2))); // starts at 9 s
    assert_eq!(schedule.next_delay(secs(8), None), Err(GiveUp::MaxElapsed)); // would start at 10 s
    assert_eq!(
        schedule.retries(),
        1,
        "a refusal does not advance the schedule"
    );
    // Giving up on max_elapsed also covers a server's retry_after that goes past it.
    assert_eq!(
        schedule.next_delay(Duration::ZERO, Some(secs(10))),
        Err(GiveUp::MaxElapsed)
    );
    // As an iterator (calls failing instantly): attempts at 0, 2, 4, 6, 8 s.
    assert_eq!(config.schedule(SmallRng::seed_from_u64(0)).count(), 4);
}

#[test]
fn attempts_run_out_before_anything_else_is_considered() {
    let config = RetryConfig {
        max_elapsed: Some(secs(1)),
        ..exact(2, Backoff::Fixed(secs(5)))
    };
    let mut schedule = config.schedule(SmallRng::seed_from_u64(0));
    assert_eq!(
        schedule.next_delay(Duration::ZERO, None),
        Err(GiveUp::MaxElapsed)
    );
    let mut schedule = exact(1, Backoff::None).schedule(SmallRng::seed_from_u64(0));
    assert_eq!(
        schedule.next_delay(Duration::ZERO, None),
        Err(GiveUp::AttemptsExhausted)
    );
}

// ---------------------------------------------------------------------------------------
// Validation and serde.

fn refused(config: RetryConfig) -> (String, String) {
    let err = config.validate().expect_err("invalid config accepted");
    assert!(err.to_string().contains(err.field()), "{err}");
    (err.field().to_owned(), err.value().to_owned())
}

#[test]
fn invalid_configurations_name_their_field_and_value() {
    let exp = |factor, max| Backoff::Exponential {
        base: secs(1),
        factor,
        max,
    };
    let d = RetryConfig::default;
    let pair = |f: &str, v: &str| (f.to_owned(), v.to_owned());
    assert_eq!(
        refused(RetryConfig {
            max_attempts: 0,
            ..d()
        }),
        pair("max_attempts", "0")
    );
    assert_eq!(
        refused(RetryConfig {
            backoff: exp(0.5, secs(9)),
            ..d()
        }),
        pair("backoff.factor", "0.5")
    );
    assert_eq!(
        refused(RetryConfig {
            backoff: exp(-2.0, secs(9)),
            ..d()
        }),
        pair("backoff.factor", "-2.0")
    );
    assert_eq!(
        refused(RetryConfig {
            backoff: exp(f64::NAN, secs(9)),
            ..d()
        }),
        pair("backoff.factor", "NaN")
    );
    assert_eq!(
        refused(RetryConfig {
            backoff: exp(f64::INFINITY, secs(9)),
            ..d()
        }),
        pair("backoff.factor", "inf")
    );
    assert_eq!(
        refused(RetryConfig {
            backoff: exp(2.0, ms(500)),
            ..d()
        }),
        pair("backoff.max", "500ms")
    );
    assert_eq!(
        refused(RetryConfig {
            jitter: Jitter::Spread(0.0),
            ..d()
        }),
        pair("jitter", "Spread(0.0)")
    );
    assert_eq!(
        refused(RetryConfig {
            jitter: Jitter::Spread(1.5),
            ..d()
        }),
        pair("jitter", "Spread(1.5)")
    );
    assert_eq!(
        refused(RetryConfig {
            jitter: Jitter::Spread(-0.1),
            ..d()
        }),
        pair("jitter", "Spread(-0.1)")
    );
    assert_eq!(
        refused(RetryConfig {
            jitter: Jitter::Spread(f64::NAN),
            ..d()
        }),
        pair("jitter", "Spread(NaN)")
    );
    assert_eq!(
        refused(RetryConfig {
            max_elapsed: Some(Duration::ZERO),
            ..d()
        }),
        pair("max_elapsed", "0ns")
    );
    assert_eq!(
        refused(RetryConfig {
            budget: Some(Cow::Borrowed(" ")),
            ..d()
        }),
        pair("budget", "\" \"")
    );
}

#[test]
fn valid_edge_values_are_accepted() {
    let ok = |c: RetryConfig| c.validate().map_err(|e| e.to_string());
    assert_eq!(ok(RetryConfig::default()), Ok(()));
    assert_eq!(
        ok(RetryConfig {
            max_attempts: 1,
            ..Default::default()
        }),
        Ok(())
    );
    assert_eq!(
        ok(RetryConfig {
            jitter: Jitter::Spread(1.0),
            ..Default::default()
        }),
        Ok(())
    );
    let flat = Backoff::Exponential {
        base: secs(1),
        factor: 1.0,
        max: secs(1),
    };
    assert_eq!(
        ok(RetryConfig {
            backoff: flat,
            ..Default::default()
        }),
        Ok(())
    );
    assert_eq!(
        ok(RetryConfig {
            backoff: Backoff::Fixed(Duration::ZERO),
            ..Default::default()
        }),
        Ok(())
    );
}

#[test]
fn the_default_configuration_is_the_attributes_table() {
    let config = RetryConfig::default();
    assert_eq!(config.max_attempts, 3);
    assert_eq!(
        config.backoff,
        Backoff::Exponential {
            base: secs(1),
            factor: 2.0,
            max: secs(60)
        }
    );
    assert_eq!(config.jitter, Jitter::Spread(0.5));
    assert_eq!(
        (config.max_elapsed, config.budget, config.adaptive),
        (None, None, false)
    );
}

#[test]
fn configurations_read_and_write_durations_as_people_write_them() {
    let config = RetryConfig {
        max_attempts: 5,
        backoff: Backoff::Linear {
            base: ms(250),
            step: ms(1500),
        },
        jitter: Jitter::Spread(0.25),
        max_elapsed: Some(secs(90)),
        budget: Some("kanban".into()),
        adaptive: true,
        max_retry_after: secs(30),
        nested: resilience::retry::Nested::Independent,
    };
    let json = serde_json::to_value(&config).expect("serializes");
    assert_eq!(json["max_retry_after"], "30s");
    assert_eq!(json["nested"], "independent");
    assert_eq!(json["backoff"]["linear"]["base"], "250ms");
    assert_eq!(json["backoff"]["linear"]["step"], "1s 500ms");
    assert_eq!(json["max_elapsed"], "1m 30s");
    assert_eq!(json["jitter"]["spread"], 0.25);
    let back: RetryConfig = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, config);

    let written = r#"{"max_attempts": 4, "backoff": {"exponential": {"base": "100ms", "factor": 2.0, "max": 5}},
                      "jitter": "full", "max_elapsed": 1.5}"#;
    let parsed: RetryConfig = serde_json::from_str(written).expect("parses");
    assert_eq!(
        parsed.backoff,
        Backoff::Exponential {
            base: ms(100),
            factor: 2.0,
            max: secs(5)
        }
    );
    assert_eq!(
        (parsed.jitter, parsed.max_elapsed),
        (Jitter::Full, Some(ms(1500)))
    );
    assert_eq!(parsed.budget, None, "missing fields take their defaults");

    let unknown =
        serde_json::from_str::<RetryConfig>(r#"{"max_attemps": 4}"#).expect_err("typo refused");
    assert!(unknown.to_string().contains("max_attemps"), "{unknown}");
    let negative =
        serde_json::from_str::<RetryConfig>(r#"{"max_elapsed": -1}"#).expect_err("refused");
    assert!(negative.to_string().contains("negative"), "{negative}");
}

// ---------------------------------------------------------------------------------------
// `Retrying::next` driven by hand.

static THREE_NO_WAIT: RetrySite = RetrySite::new("three_no_wait", || RetryConfig {
    backoff: Backoff::None,
    ..Default::default()
});

#[test]
fn a_success_breaks_at_once() {
    let run = drive!(&THREE_NO_WAIT, |_| Ok::<_, Flaky>("done"));
    assert_eq!((run.calls, run.retries.len()), (1, 0));
    assert_eq!(run.result.ok(), Some("done"));
}

#[test]
fn a_retryable_error_is_retried_until_attempts_run_out() {
    let run = drive!(&THREE_NO_WAIT, |_| Err::<(), _>(Flaky::retryable()));
    assert_eq!(run.calls, 3);
    assert_eq!(run.retries, [(1, Duration::ZERO), (2, Duration::ZERO)]);
    let err = run.result.expect_err("fails");
    assert_eq!(
        err.ctx.attempt, 3,
        "the final error says how many calls were made"
    );
}

#[test]
fn a_retry_that_then_succeeds_returns_the_value() {
    let run = drive!(&THREE_NO_WAIT, |call| if call < 2 {
        Err(Flaky::retryable())
    } else {
        Ok(call)
    });
    assert_eq!((run.calls, run.result.ok()), (2, Some(2)));
}

#[test]
fn a_non_retryable_error_comes_back_after_one_call_with_its_attempt_set() {
    let run = drive!(&THREE_NO_WAIT, |_| Err::<(), _>(Flaky::fatal()));
    assert_eq!((run.calls, run.retries.len()), (1, 0));
    assert_eq!(run.result.expect_err("fails").ctx.attempt, 1);
}

#[test]
fn retry_if_overrides_the_errors_own_advice_both_ways() {
    let run = drive!(
        &THREE_NO_WAIT,
        |_| Err::<(), _>(Flaky::fatal()),
        |_: &Flaky| Some(true)
    );
    assert_eq!(run.calls, 3);
    let run = drive!(
        &THREE_NO_WAIT,
        |_| Err::<(), _>(Flaky::retryable()),
        |_: &Flaky| Some(false)
    );
    assert_eq!(run.calls, 1);
    // It sees the error of the attempt: retry only while the call number is below 2.
    let run = drive!(
        &THREE_NO_WAIT,
        |call| Err::<(), _>(Flaky {
            retryable: call < 2,
            ..Flaky::retryable()
        }),
        |e: &Flaky| Some(e.retryable)
    );
    assert_eq!(run.calls, 2);
}

#[test]
fn a_plain_std_error_is_always_retried() {
    let run = drive!(&THREE_NO_WAIT, |_| Err::<(), _>(Plain));
    assert_eq!(run.calls, 3);
    assert!(run.result.is_err());
}

#[test]
fn an_error_that_is_not_even_a_std_error_is_retried() {
    let run = drive!(&THREE_NO_WAIT, |call| Err::<(), _>(format!(
        "failure {call}"
    )));
    assert_eq!(run.calls, 3);
    assert_eq!(
        run.result,
        Err("failure 3".to_owned()),
        "the last error comes back unchanged"
    );
}

static ONE_ATTEMPT: RetrySite = RetrySite::new("one_attempt", || RetryConfig {
    max_attempts: 1,
    ..Default::default()
});

#[test]
fn one_attempt_never_retries() {
    let run = drive!(&ONE_ATTEMPT, |_| Err::<(), _>(Flaky::retryable()));
    assert_eq!((run.calls, run.retries.len()), (1, 0));
    assert_eq!(run.result.expect_err("fails").ctx.attempt, 1);
}

static EXPONENTIAL_EXACT: RetrySite = RetrySite::new("exponential_exact", || RetryConfig {
    max_attempts: 5,
    backoff: Backoff::Exponential {
        base: ms(100),
        factor: 2.0,
        max: ms(500),
    },
    jitter: Jitter::None,
    ..Default::default()
});

#[test]
fn on_retry_sees_each_failed_attempt_and_its_delay() {
    let run = drive!(&EXPONENTIAL_EXACT, |_| Err::<(), _>(Plain));
    assert_eq!(
        run.retries,
        [(1, ms(100)), (2, ms(200)), (3, ms(400)), (4, ms(500))]
    );
}

static DEFAULT_SITE: RetrySite = RetrySite::new("default_site", RetryConfig::default);

#[test]
fn default_delays_are_the_default_backoff_spread_by_half() {
    for _ in 0..200 {
        let run = drive!(&DEFAULT_SITE, |_| Err::<(), _>(Plain));
        let [(1, first), (2, second)] = run.retries[..] else {
            panic!("{:?}", run.retries)
        };
        assert!((ms(500)..=ms(1500)).contains(&first), "{first:?}");
        assert!((ms(1000)..=ms(3000)).contains(&second), "{second:?}");
    }
}

#[test]
fn the_view_borrow_ends_before_user_code_sees_the_error() {
    // retry_if and on_retry receive `&E` after the view wrote the context: they see it.
    let seen = Mutex::new(Vec::new());
    let mut retrying = Retrying::new(&THREE_NO_WAIT);
    let flow = retrying.next(
        Err::<(), _>(Flaky::retryable()),
        |e| (&&&&&Probe::new(e)).view(),
        |e: &Flaky| {
            seen.lock().unwrap().push(("retry_if", e.ctx.attempt));
            None
        },
        |e: &Flaky, attempt, _| {
            seen.lock()
                .unwrap()
                .push(("on_retry", e.ctx.attempt + attempt * 10))
        },
    );
    assert!(matches!(flow, ControlFlow::Continue(Duration::ZERO)));
    assert_eq!(*seen.lock().unwrap(), [("retry_if", 1), ("on_retry", 11)]);
}

static INVALID_SITE: RetrySite = RetrySite::new("invalid_site", || RetryConfig {
    max_attempts: 0,
    backoff: Backoff::None,
    ..Default::default()
});

#[test]
fn an_invalid_site_key_goes_back_to_its_default_and_the_other_keys_are_kept() {
    // `max_attempts = 0` is invalid: it alone goes back to its default (3), and the
    // site keeps `backoff: None` (docs/reliability.md, "Validation"); before, the whole
    // configuration went back to the defaults, exponential backoff included.
    assert_eq!(
        INVALID_SITE.config(),
        RetryConfig {
            max_attempts: RetryConfig::default().max_attempts,
            backoff: Backoff::None,
            ..Default::default()
        }
    );
    assert_eq!(INVALID_SITE.max_attempts(), 3);
    let run = drive!(&INVALID_SITE, |_| Err::<(), _>(Plain));
    assert_eq!(run.calls, 3);
    assert_eq!(run.retries, [(1, Duration::ZERO), (2, Duration::ZERO)]);
}

static PANICKY: RetrySite = RetrySite::new("panicky", || RetryConfig {
    backoff: Backoff::None,
    ..Default::default()
});

#[test]
fn a_panicking_on_retry_leaves_the_site_usable() {
    let panicked = std::panic::catch_unwind(|| {
        let mut retrying = Retrying::new(&PANICKY);
        let _ = retrying.next(
            Err::<(), _>(Plain),
            |e| (&&&&&Probe::new(e)).view(),
            |_| None,
            |_, _, _| panic!("user code"),
        );
    });
    assert!(panicked.is_err());
    let run = drive!(&PANICKY, |_| Err::<(), _>(Plain));
    assert_eq!(run.calls, 3);
}

// ---------------------------------------------------------------------------------------
// Time: exact virtual delays, max_elapsed and retry_after on paused tokio time.

/// Runs a site to completion on tokio's clock, sleeping the delays; `body` may itself
/// take (virtual) time. Returns the result and when each call started, from the start.
async fn timed<T, E>(
    site: &'static RetrySite,
    mut body: impl AsyncFnMut(u32) -> Result<T, E>,
    view: impl for<'a> Fn(&'a mut E) -> View<'a>,
) -> (Result<T, E>, Vec<Duration>) {
    let start = tokio::time::Instant::now();
    let mut starts = Vec::new();
    let mut retrying = Retrying::new(site);
    let result = loop {
        starts.push(start.elapsed());
        let outcome = body(starts.len() as u32).await;
        match retrying.next(outcome, &view, |_| None, |_, _, _| {}) {
            ControlFlow::Break(result) => break result,
            ControlFlow::Continue(delay) => resilience::__private::sleep(delay).await,
        }
    };
    (result, starts)
}

fn marcus(e: &mut Flaky) -> View<'_> {
    View::Marcus(e)
}

static FIXED_EXACT: RetrySite = RetrySite::new("fixed_exact", || RetryConfig {
    max_attempts: 4,
    backoff: Backoff::Fixed(ms(300)),
    jitter: Jitter::None,
    ..Default::default()
});
static LINEAR_EXACT: RetrySite = RetrySite::new("linear_exact", || RetryConfig {
    max_attempts: 4,
    backoff: Backoff::Linear {
        base: ms(100),
        step: ms(200),
    },
    jitter: Jitter::None,
    ..Default::default()
});

#[tokio::test(start_paused = true)]
async fn each_backoff_sleeps_its_exact_virtual_delays() {
    let failing = async |_| Err::<(), _>(Flaky::retryable());
    let (_, starts) = timed(&FIXED_EXACT, failing, marcus).await;
    assert_eq!(starts, [0, 300, 600, 900].map(ms));
    let (_, starts) = timed(&LINEAR_EXACT, failing, marcus).await;
    assert_eq!(starts, [0, 100, 400, 900].map(ms));
    let (_, starts) = timed(&EXPONENTIAL_EXACT, failing, marcus).await;
    assert_eq!(starts, [0, 100, 300, 700, 1200].map(ms), "capped at 500 ms");
    let (_, starts) = timed(&THREE_NO_WAIT, failing, marcus).await;
    assert_eq!(starts, [Duration::ZERO; 3]);
}

static ELAPSED_LIMITED: RetrySite = RetrySite::new("elapsed_limited", || RetryConfig {
    max_attempts: 100,
    backoff: Backoff::Fixed(secs(1)),
    jitter: Jitter::None,
    max_elapsed: Some(ms(3500)),
    ..Default::default()
});

#[tokio::test(start_paused = true)]
async fn max_elapsed_stops_new_attempts_on_virtual_time() {
    let (result, starts) = timed(
        &ELAPSED_LIMITED,
        async |_| Err::<(), _>(Flaky::retryable()),
        marcus,
    )
    .await;
    assert_eq!(starts, [0, 1, 2, 3].map(secs));
    assert_eq!(result.expect_err("fails").ctx.attempt, 4);

    // Slow calls count too: 1 s call, 1 s wait, 1 s call; a third would start at 4 s.
    let slow = async |_| {
        tokio::time::sleep(secs(1)).await;
        Err::<(), _>(Flaky::retryable())
    };
    let before = tokio::time::Instant::now();
    let (result, starts) = timed(&ELAPSED_LIMITED, slow, marcus).await;
    assert_eq!(starts, [0, 2].map(secs));
    assert_eq!(
        before.elapsed(),
        secs(3),
        "gave up without sleeping past the limit"
    );
    assert_eq!(result.expect_err("fails").ctx.attempt, 2);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_is_honoured_even_past_the_cap() {
    let (result, starts) = timed(
        &EXPONENTIAL_EXACT,
        async |call| {
            if call < 3 {
                Err(Flaky::rate_limited(secs(2)))
            } else {
                Ok(call)
            }
        },
        marcus,
    )
    .await;
    assert_eq!(result.ok(), Some(3));
    assert_eq!(
        starts,
        [0, 2, 4].map(secs),
        "the 500 ms cap yields to the server's 2 s"
    );
}

static ELAPSED_AND_RATE_LIMITED: RetrySite =
    RetrySite::new("elapsed_and_rate_limited", || RetryConfig {
        max_elapsed: Some(secs(10)),
        backoff: Backoff::None,
        ..Default::default()
    });

#[tokio::test(start_paused = true)]
async fn a_retry_after_past_max_elapsed_gives_up_at_once() {
    let before = tokio::time::Instant::now();
    let (result, starts) = timed(
        &ELAPSED_AND_RATE_LIMITED,
        async |_| Err::<(), _>(Flaky::rate_limited(secs(60))),
        marcus,
    )
    .await;
    assert_eq!(starts.len(), 1);
    assert_eq!(before.elapsed(), Duration::ZERO);
    assert_eq!(result.expect_err("fails").ctx.attempt, 1);
}

// ---------------------------------------------------------------------------------------
// Adaptive attempts through a site.

static ADAPTIVE: RetrySite = RetrySite::new("adaptive", || RetryConfig {
    max_attempts: 3,
    backoff: Backoff::None,
    adaptive: true,
    ..Default::default()
});

#[test]
fn an_adaptive_site_shrinks_after_failures_and_grows_after_successes() {
    let failed = |site| drive!(site, |_| Err::<(), _>(Plain)).calls;
    assert_eq!(failed(&ADAPTIVE), 3);
    for _ in 1..AdaptiveAttempts::FAILURE_STREAK {
        failed(&ADAPTIVE);
    }
    assert_eq!(ADAPTIVE.max_attempts(), 2);
    assert_eq!(failed(&ADAPTIVE), 2, "the next call makes fewer attempts");
    for _ in 0..4 * AdaptiveAttempts::FAILURE_STREAK {
        failed(&ADAPTIVE);
    }
    assert_eq!(ADAPTIVE.max_attempts(), 1, "never below one call");
    for _ in 0..AdaptiveAttempts::SUCCESS_STREAK * 10 {
        drive!(&ADAPTIVE, |_| Ok::<_, Plain>(()));
    }
    assert_eq!(
        ADAPTIVE.max_attempts(),
        6,
        "never above twice the configured attempts"
    );
    assert_eq!(failed(&ADAPTIVE), 6);
}

#[test]
fn adaptive_attempts_race_without_leaving_their_bounds() {
    let adaptive = Arc::new(AdaptiveAttempts::new(4));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let adaptive = Arc::clone(&adaptive);
            std::thread::spawn(move || {
                for i in 0..10_000u32 {
                    if (i + t) % 3 == 0 {
                        adaptive.record_failure();
                    } else {
                        adaptive.record_success();
                    }
                    let now = adaptive.max_attempts();
                    assert!((1..=8).contains(&now), "{now}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread panicked");
    }
}

// ---------------------------------------------------------------------------------------
// Tracing: an event per retry, one on giving up.

static TRACED: RetrySite = RetrySite::new("traced_fetch", || RetryConfig {
    max_attempts: 3,
    backoff: Backoff::Fixed(ms(1500)),
    jitter: Jitter::None,
    ..Default::default()
});

#[test]
fn each_retry_and_the_giving_up_are_traced_with_their_fields() {
    let capture = resilience_tests::capture::Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        drive!(&TRACED, |_| Err::<(), _>(Flaky::retryable()));
        drive!(&TRACED, |_| Err::<(), _>(Flaky::fatal()));
    });
    let ours: Vec<_> = (capture.of("resilience::retry").into_iter())
        .filter(|e| e.field("name") == "traced_fetch")
        .collect();
    assert_eq!(ours.len(), 4, "{ours:#?}");
    assert!(
        ours.iter().all(|e| e.field("via") == "attribute"),
        "{ours:#?}"
    );
    for (event, attempt) in ours[..2].iter().zip(["1", "2"]) {
        assert_eq!(event.fields["attempt"], attempt);
        assert_eq!(event.fields["delay_ms"], "1500");
        assert_eq!(event.fields["error"], "upstream flaked");
        assert_eq!(event.fields["code"], "FLAKY");
    }
    assert_eq!(ours[2].fields["reason"], "attempts exhausted");
    assert_eq!(ours[2].fields["attempts"], "3");
    assert_eq!(ours[2].level, tracing::Level::WARN);
    assert_eq!(ours[3].fields["reason"], "not retryable");
    assert_eq!(
        ours[3].level,
        tracing::Level::DEBUG,
        "a first call's fatal error is no retry story"
    );
}

// ---------------------------------------------------------------------------------------
// Properties over random configurations and seeds.

fn any_backoff() -> impl Strategy<Value = Backoff> {
    let d = || (0u64..5_000).prop_map(ms);
    prop_oneof![
        Just(Backoff::None),
        d().prop_map(Backoff::Fixed),
        (d(), d()).prop_map(|(base, step)| Backoff::Linear { base, step }),
        (d(), 1.0f64..4.0, 0u64..20_000).prop_map(|(base, factor, extra)| Backoff::Exponential {
            base,
            factor,
            max: base + ms(extra),
        }),
    ]
}

fn any_jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
        (0.01f64..=1.0).prop_map(Jitter::Spread),
    ]
}

fn any_config() -> impl Strategy<Value = RetryConfig> {
    (
        1u32..40,
        any_backoff(),
        any_jitter(),
        proptest::option::of(1u64..60_000),
    )
        .prop_map(|(max_attempts, backoff, jitter, max_elapsed)| RetryConfig {
            max_attempts,
            backoff,
            jitter,
            max_elapsed: max_elapsed.map(ms),
            ..Default::default()
        })
}

/// The bounds a delay must respect, written from the documentation's table.
fn allowed(config: &RetryConfig, retry: u32, previous: Duration) -> (Duration, Duration) {
    let d = config.backoff.delay(retry);
    let (lo, hi) = match config.jitter {
        Jitter::None => (d, d),
        Jitter::Full => (Duration::ZERO, d),
        Jitter::Equal => (d / 2, d),
        Jitter::Decorrelated => (
            d,
            d.max(previous * 3)
                .min(config.backoff.cap().unwrap_or(d * 3)),
        ),
        Jitter::Spread(f) => (
            d.mul_f64(1.0 - f).saturating_sub(Duration::from_nanos(1)),
            d.mul_f64(1.0 + f),
        ),
        _ => unreachable!("no other jitter is generated"),
    };
    match config.backoff.cap() {
        Some(cap) => (lo.min(cap), hi.min(cap)),
        None => (lo, hi),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_delay_is_within_its_jitter_bounds_the_cap_and_max_elapsed(
        config in any_config(),
        seed in any::<u64>(),
    ) {
        prop_assert!(config.validate().is_ok());
        let delays: Vec<_> = config.schedule(SmallRng::seed_from_u64(seed)).collect();
        prop_assert!(delays.len() < config.max_attempts as usize);
        let mut previous = config.backoff.delay(1);
        let mut elapsed = Duration::ZERO;
        for (i, &delay) in delays.iter().enumerate() {
            let retry = i as u32 + 1;
            let (lo, hi) = allowed(&config, retry, previous);
            prop_assert!(delay >= lo && delay <= hi, "retry {retry}: {delay:?} not in {lo:?}..={hi:?}");
            if let Some(cap) = config.backoff.cap() {
                prop_assert!(delay <= cap);
            }
            elapsed += delay;
            if let Some(max) = config.max_elapsed {
                prop_assert!(elapsed < max, "attempt at {elapsed:?} past max_elapsed {max:?}");
            }
            previous = delay;
        }
        // It stopped for a reason: out of attempts, or the next one would pass max_elapsed.
        let out_of_attempts = delays.len() + 1 == config.max_attempts as usize;
        prop_assert!(out_of_attempts || config.max_elapsed.is_some());
    }

    #[test]
    fn retry_after_is_never_shortened(
        config in any_config(),
        seed in any::<u64>(),
        wait in 0u64..100_000,
    ) {
        let mut schedule = config.schedule(SmallRng::seed_from_u64(seed));
        if let Ok(delay) = schedule.next_delay(Duration::ZERO, Some(ms(wait))) {
            prop_assert!(delay >= ms(wait));
        }
    }
}

static MID_CALL: RetrySite =
    RetrySite::with_policy("mid_call", "retry_policy.mid_call", || RetryConfig {
        max_attempts: 4,
        backoff: Backoff::None,
        jitter: Jitter::None,
        ..Default::default()
    });

#[test]
fn a_policy_changed_while_a_call_retries_applies_from_its_next_failure() {
    fn opaque<'a>(_: &'a mut &'static str) -> View<'a> {
        View::Opaque("&str")
    }
    let mut retrying = Retrying::new(&MID_CALL);
    let first = retrying.failed("down", opaque, |_| None, |_, _, _| {});
    assert_eq!(first, ControlFlow::Continue(Duration::ZERO));

    resilience::registry()
        .configure_retry(
            "retry_policy.mid_call",
            RetryConfig {
                max_attempts: 2,
                backoff: Backoff::Fixed(secs(7)),
                jitter: Jitter::None,
                ..Default::default()
            },
        )
        .unwrap();
    // The new backoff applies at once; the call keeps the attempt limit it started with
    // (4), although the new policy allows 2.
    let second = retrying.failed("down", opaque, |_| None, |_, _, _| {});
    assert_eq!(second, ControlFlow::Continue(secs(7)));
    let third = retrying.failed("down", opaque, |_| None, |_, _, _| {});
    assert_eq!(third, ControlFlow::Continue(secs(7)));
    let fourth = retrying.failed("down", opaque, |_| None, |_, _, _| {});
    assert_eq!(fourth, ControlFlow::Break("down"));
    // A call starting now takes the new limit.
    assert_eq!(MID_CALL.max_attempts(), 2);
}
