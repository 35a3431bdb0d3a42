//! Retry budgets: withdraw, refill, deposit and exhaustion on a manual clock; the global
//! map; budgets stopping a retry storm through `Retrying::next`; concurrency; and a
//! property test against a plain model of the bucket.
// `(&&&&&Probe::new(e)).view()` is the generated code's autoref probe, written as the macro
// writes it: for some error types fewer `&` would do, which is the point of the probe.
#![allow(clippy::needless_borrow)]

use std::ops::ControlFlow;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use proptest::prelude::*;
use resilience::__private::{Probe, RetrySite, Retrying, ViewError};
use resilience::clock::ManualClock;
use resilience::retry::{Backoff, BudgetConfig, BudgetSnapshot, RetryBudget};
use resilience::retry_budgets;
use resilience::{retry_budget, RetryConfig};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn budget(
    capacity: u32,
    refill_per_second: f64,
    deposit_per_success: f64,
) -> (RetryBudget, ManualClock) {
    let clock = ManualClock::new();
    let config = BudgetConfig {
        capacity,
        refill_per_second,
        deposit_per_success,
        ..Default::default()
    };
    (
        RetryBudget::new(config, clock.clone()).expect("valid budget"),
        clock,
    )
}

#[test]
fn a_new_budget_is_full_and_empties_one_token_per_retry() {
    let (budget, _clock) = budget(3, 1.0, 0.0);
    assert_eq!(budget.available(), 3);
    assert!(budget.try_withdraw());
    assert_eq!(budget.available(), 2);
    assert!(budget.try_withdraw() && budget.try_withdraw());
    assert!(!budget.try_withdraw(), "empty");
    assert!(!budget.try_withdraw(), "still empty");
    let snapshot = budget.snapshot();
    assert_eq!(
        (snapshot.withdrawn, snapshot.rejected, snapshot.available),
        (3, 2, 0.0)
    );
}

#[test]
fn tokens_refill_continuously_at_the_configured_rate() {
    let (budget, clock) = budget(10, 4.0, 0.0);
    while budget.try_withdraw() {}
    clock.advance(ms(100)); // 0.4 of a token
    assert_eq!(budget.available(), 0);
    assert!(!budget.try_withdraw());
    clock.advance(ms(150)); // 1.0
    assert_eq!(budget.available(), 1);
    assert!(budget.try_withdraw());
    clock.advance(Duration::from_secs(1));
    assert_eq!(budget.available(), 4);
    assert!((budget.snapshot().available - 4.0).abs() < 1e-6);
}

#[test]
fn many_tiny_steps_refill_as_much_as_one_big_step() {
    let (budget, clock) = budget(100, 10.0, 0.0);
    while budget.try_withdraw() {}
    // 1 µs steps earn 10 micro-tokens each: none may be rounded away.
    for _ in 0..100_000 {
        clock.advance(Duration::from_micros(1));
        let _ = budget.available();
    }
    assert!(
        (budget.snapshot().available - 1.0).abs() < 1e-6,
        "{}",
        budget.snapshot().available
    );
    // Nanosecond steps earn less than a micro-token each: time accumulates instead.
    for _ in 0..100_000 {
        clock.advance(Duration::from_nanos(1));
        let _ = budget.available();
    }
    assert!(
        (budget.snapshot().available - 1.001).abs() < 1e-6,
        "{}",
        budget.snapshot().available
    );
}

#[test]
fn refills_never_exceed_capacity() {
    let (budget, clock) = budget(5, 100.0, 1.0);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(budget.available(), 5);
    budget.record_success();
    assert_eq!(budget.snapshot().available, 5.0);
}

#[test]
fn successes_deposit_their_share() {
    let (budget, _clock) = budget(10, 0.0, 0.25);
    while budget.try_withdraw() {}
    for _ in 0..7 {
        budget.record_success();
    }
    assert_eq!(budget.available(), 1);
    assert!((budget.snapshot().available - 1.75).abs() < 1e-9);
}

#[test]
fn without_refill_or_deposits_an_empty_budget_stays_empty() {
    let (budget, clock) = budget(1, 0.0, 0.0);
    assert!(budget.try_withdraw());
    clock.advance(Duration::from_secs(86_400));
    budget.record_success();
    assert!(!budget.try_withdraw());
}

#[test]
fn a_clock_going_backwards_credits_nothing_for_the_jump_and_refills_from_its_new_reading() {
    let (budget, clock) = budget(10, 1.0, 0.0);
    clock.set(Duration::from_secs(100));
    while budget.try_withdraw() {}
    clock.set(Duration::from_secs(50));
    assert_eq!(budget.available(), 0, "the jump back credits nothing");
    assert!(!budget.try_withdraw());
    clock.set(Duration::from_secs(52));
    assert_eq!(
        budget.available(),
        2,
        "credited from the new reading, 50 s, not from 100 s"
    );
    clock.set(Duration::from_secs(57));
    assert_eq!(budget.available(), 7);
    clock.set(Duration::from_secs(102));
    assert_eq!(budget.available(), 10, "capped at its capacity");
}

#[test]
fn configure_changes_the_shape_and_refuses_invalid_values() {
    let (budget, clock) = budget(10, 1.0, 0.0);
    budget
        .configure(BudgetConfig {
            capacity: 4,
            refill_per_second: 0.0,
            deposit_per_success: 0.0,
            ..Default::default()
        })
        .expect("valid");
    assert_eq!(
        budget.available(),
        4,
        "tokens above the new capacity are dropped"
    );
    clock.advance(Duration::from_secs(10));
    while budget.try_withdraw() {}
    budget
        .configure(BudgetConfig {
            capacity: 4,
            refill_per_second: 2.0,
            deposit_per_success: 0.0,
            ..Default::default()
        })
        .expect("valid");
    assert_eq!(
        budget.available(),
        0,
        "time at a zero rate earns nothing when the rate changes"
    );
    clock.advance(ms(1000));
    assert_eq!(budget.available(), 2);

    let before = budget.config();
    let refused = |config: BudgetConfig| {
        let err = budget.configure(config).expect_err("invalid accepted");
        (err.field(), err.value().to_owned())
    };
    let d = BudgetConfig::default;
    assert_eq!(
        refused(BudgetConfig { capacity: 0, ..d() }),
        ("capacity", "0".to_owned())
    );
    assert_eq!(
        refused(BudgetConfig {
            refill_per_second: -1.0,
            ..d()
        }),
        ("refill_per_second", "-1.0".to_owned())
    );
    assert_eq!(
        refused(BudgetConfig {
            refill_per_second: f64::NAN,
            ..d()
        }),
        ("refill_per_second", "NaN".to_owned())
    );
    assert_eq!(
        refused(BudgetConfig {
            deposit_per_success: f64::INFINITY,
            ..d()
        }),
        ("deposit_per_success", "inf".to_owned())
    );
    assert_eq!(
        budget.config(),
        before,
        "a refused configuration changes nothing"
    );
    assert!(RetryBudget::new(BudgetConfig { capacity: 0, ..d() }, ManualClock::new()).is_err());
}

#[test]
fn reset_fills_the_budget_and_clears_its_counters() {
    let (budget, _clock) = budget(3, 0.0, 0.0);
    while budget.try_withdraw() {}
    budget.reset();
    let snapshot = budget.snapshot();
    assert_eq!(
        (snapshot.available, snapshot.withdrawn, snapshot.rejected),
        (3.0, 0, 0)
    );
}

#[test]
fn the_default_budget_holds_a_hundred_tokens_refilled_at_ten_a_second() {
    assert_eq!(
        BudgetConfig::default(),
        BudgetConfig {
            capacity: 100,
            refill_per_second: 10.0,
            deposit_per_success: 0.0,
            ..Default::default()
        }
    );
    let budget = retry_budget("tests-default-shape");
    assert_eq!(budget.config(), BudgetConfig::default());
    assert_eq!(budget.available(), 100);
}

#[test]
fn named_budgets_are_shared_and_listed() {
    let a = retry_budget("tests-shared");
    let b = retry_budget("tests-shared");
    let other = retry_budget("tests-other");
    assert!(a.try_withdraw());
    assert_eq!(b.snapshot().withdrawn, 1);
    assert_eq!(other.snapshot().withdrawn, 0);
    let listed = retry_budgets();
    let names: Vec<_> = listed.iter().filter_map(|s| s.name.as_deref()).collect();
    assert!(
        names.contains(&"tests-shared") && names.contains(&"tests-other"),
        "{names:?}"
    );
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted: {names:?}");
}

#[test]
fn snapshots_serialize_for_dashboards() {
    let (budget, _clock) = budget(8, 2.0, 0.5);
    assert!(budget.try_withdraw());
    let json = serde_json::to_value(budget.snapshot()).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({
            "name": null, "available": 7.0, "capacity": 8, "refill_per_second": 2.0,
            "deposit_per_success": 0.5, "withdrawn": 1, "rejected": 0,
            "scope": "local", "expected_instances": 1, "on_cluster": false, "leased": 0
        })
    );
    let back: BudgetSnapshot = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, budget.snapshot());
    let config: BudgetConfig = serde_json::from_str(r#"{"capacity": 5}"#).expect("parses");
    assert_eq!(
        config,
        BudgetConfig {
            capacity: 5,
            ..Default::default()
        }
    );
}

#[test]
fn concurrent_withdrawals_grant_exactly_the_tokens_there_are() {
    let (budget, _clock) = budget(1_000, 0.0, 0.0);
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (budget, start) = (budget.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                (0..500).filter(|_| budget.try_withdraw()).count()
            })
        })
        .collect();
    let granted: usize = threads
        .into_iter()
        .map(|t| t.join().expect("no panic"))
        .sum();
    assert_eq!(granted, 1_000);
    let snapshot = budget.snapshot();
    assert_eq!(
        (snapshot.withdrawn, snapshot.rejected, snapshot.available),
        (1_000, 3_000, 0.0)
    );
}

#[test]
fn concurrent_refills_credit_each_interval_once() {
    let (budget, clock) = budget(1_000_000, 1_000.0, 0.0);
    while budget.try_withdraw() {}
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (budget, clock) = (budget.clone(), clock.clone());
            std::thread::spawn(move || {
                for _ in 0..1_000 {
                    if t == 0 {
                        clock.advance(ms(1));
                    }
                    let _ = budget.available();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no panic");
    }
    // 1 000 ms at 1 000 tokens a second, whichever thread credited which interval.
    assert!(
        (budget.snapshot().available - 1_000.0).abs() < 1e-6,
        "{}",
        budget.snapshot().available
    );
}

// ---------------------------------------------------------------------------------------
// Budgets through `Retrying::next`.

#[derive(Debug, thiserror::Error)]
#[error("down")]
struct Down;

fn calls_until_done(site: &RetrySite) -> (u32, bool) {
    let mut retrying = Retrying::new(site);
    let mut calls = 0;
    loop {
        calls += 1;
        let flow = retrying.next(
            Err::<(), _>(Down),
            |e| (&&&&&Probe::new(e)).view(),
            |_| None,
            |_, _, _| {},
        );
        if let ControlFlow::Break(result) = flow {
            return (calls, result.is_ok());
        }
    }
}

static STORM: RetrySite = RetrySite::new("storm", || RetryConfig {
    max_attempts: 10,
    backoff: Backoff::None,
    budget: Some("tests-storm".into()),
    ..Default::default()
});

#[test]
fn an_empty_budget_stops_the_retry_storm() {
    retry_budget("tests-storm")
        .configure(BudgetConfig {
            capacity: 4,
            refill_per_second: 0.0,
            deposit_per_success: 0.0,
            ..Default::default()
        })
        .expect("valid");
    assert_eq!(
        calls_until_done(&STORM),
        (5, false),
        "four retries granted, then none"
    );
    assert_eq!(
        calls_until_done(&STORM),
        (1, false),
        "no token left: no retry at all"
    );
    let snapshot = retry_budget("tests-storm").snapshot();
    assert_eq!((snapshot.withdrawn, snapshot.rejected), (4, 2));
}

static DEPOSITING: RetrySite = RetrySite::new("depositing", || RetryConfig {
    max_attempts: 3,
    backoff: Backoff::None,
    budget: Some("tests-depositing".into()),
    ..Default::default()
});

#[test]
fn successful_calls_deposit_into_their_sites_budget() {
    let budget = retry_budget("tests-depositing");
    budget
        .configure(BudgetConfig {
            capacity: 10,
            refill_per_second: 0.0,
            deposit_per_success: 0.5,
            ..Default::default()
        })
        .expect("valid");
    while budget.try_withdraw() {}
    for _ in 0..4 {
        let mut retrying = Retrying::new(&DEPOSITING);
        let flow = retrying.next(
            Ok::<_, Down>(()),
            |e| (&&&&&Probe::new(e)).view(),
            |_| None,
            |_, _, _| {},
        );
        assert!(matches!(flow, ControlFlow::Break(Ok(()))));
    }
    assert_eq!(budget.available(), 2);
}

static PANICKING_WITH_BUDGET: RetrySite = RetrySite::new("panicking_with_budget", || RetryConfig {
    max_attempts: 5,
    backoff: Backoff::None,
    budget: Some("tests-panicking".into()),
    ..Default::default()
});

#[test]
fn a_panicking_on_retry_does_not_wedge_the_budget() {
    let budget = retry_budget("tests-panicking");
    budget
        .configure(BudgetConfig {
            capacity: 3,
            refill_per_second: 0.0,
            deposit_per_success: 0.0,
            ..Default::default()
        })
        .expect("valid");
    let panicked = std::panic::catch_unwind(|| {
        let mut retrying = Retrying::new(&PANICKING_WITH_BUDGET);
        let _ = retrying.next(
            Err::<(), _>(Down),
            |e| (&&&&&Probe::new(e)).view(),
            |_| None,
            |_, _, _| panic!("on_retry failed"),
        );
    });
    assert!(panicked.is_err());
    assert_eq!(
        budget.available(),
        2,
        "the retry's token was spent, nothing else changed"
    );
    assert_eq!(
        calls_until_done(&PANICKING_WITH_BUDGET),
        (3, false),
        "two retries left, granted"
    );
    assert!(!budget.try_withdraw());
}

// ---------------------------------------------------------------------------------------
// Properties: the real bucket against a model written plainly, in micro-tokens.

#[derive(Clone, Debug)]
enum Op {
    Withdraw,
    Advance(u64),
    Success,
    Configure(u32, u32, u32),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Withdraw),
        3 => (0u64..3_000).prop_map(Op::Advance),
        2 => Just(Op::Success),
        1 => (1u32..50, 0u32..20, 0u32..8).prop_map(|(c, r, d)| Op::Configure(c, r, d)),
    ]
}

const MICRO: u64 = 1_000_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_budget_matches_a_plain_token_bucket_and_stays_within_bounds(
        capacity in 1u32..50,
        rate in 0u32..20,
        quarter_deposits in 0u32..8,
        ops in proptest::collection::vec(any_op(), 1..200),
    ) {
        let clock = ManualClock::new();
        let config = |c: u32, r: u32, q: u32| BudgetConfig {
            capacity: c,
            refill_per_second: f64::from(r),
            deposit_per_success: f64::from(q) / 4.0,
            ..Default::default()
        };
        let budget = RetryBudget::new(config(capacity, rate, quarter_deposits), clock.clone()).expect("valid");
        // The model: tokens in micro-tokens, refilled on every clock step.
        let (mut cap, mut rate, mut deposit) = (u64::from(capacity) * MICRO, u64::from(rate), u64::from(quarter_deposits) * MICRO / 4);
        let mut tokens = cap;
        for op in ops {
            match op {
                Op::Withdraw => {
                    let expected = tokens >= MICRO;
                    if expected { tokens -= MICRO; }
                    prop_assert_eq!(budget.try_withdraw(), expected);
                }
                Op::Advance(step) => {
                    clock.advance(ms(step));
                    tokens = (tokens + step * rate * 1_000).min(cap);
                }
                Op::Success => {
                    budget.record_success();
                    tokens = (tokens + deposit).min(cap);
                }
                Op::Configure(c, r, q) => {
                    budget.configure(config(c, r, q)).expect("valid");
                    (cap, rate, deposit) = (u64::from(c) * MICRO, u64::from(r), u64::from(q) * MICRO / 4);
                    tokens = tokens.min(cap);
                }
            }
            let snapshot = budget.snapshot();
            prop_assert!(snapshot.available >= 0.0);
            prop_assert!(snapshot.available <= f64::from(snapshot.capacity));
            prop_assert!((snapshot.available - tokens as f64 / MICRO as f64).abs() < 1e-9,
                "model {} real {}", tokens as f64 / MICRO as f64, snapshot.available);
            prop_assert_eq!(u64::from(budget.available()), tokens / MICRO);
        }
    }
}
