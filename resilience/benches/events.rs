//! What the event stream costs a call: each case without a subscriber to
//! `registry.events()` beside the same case with one (a receiver that is never read, so
//! it lags as a slow subscriber does), in one run:
//! `cargo bench -p resilience --bench events`.
//!
//! - `closed_call`: a call through a closed breaker (the hot path: it emits nothing);
//! - `retried_call`: a call whose first attempt fails and second succeeds (a `retry`
//!   event with a subscriber, nothing built without one);
//! - `transition`: a breaker forced open and reset (two `state_change` events).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use criterion::{criterion_group, criterion_main, Criterion};
use resilience::registry::Registry;
use resilience::{circuit_breaker, retry, BreakerConfig, CircuitOpen, MarcusError};

static REG: LazyLock<Registry> = LazyLock::new(Registry::new);

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum BenchError {
    #[error("flaky")]
    Flaky,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

#[circuit_breaker(name = "bench.events.closed", registry = REG)]
#[inline(never)]
fn closed(x: u64) -> Result<u64, BenchError> {
    Ok(black_box(x) + 1)
}

static CALLS: AtomicU64 = AtomicU64::new(0);

#[retry(max_attempts = 2, backoff = none, registry = REG)]
#[inline(never)]
fn retried(x: u64) -> Result<u64, BenchError> {
    // Every other call fails: each retried call is one failure, then a success.
    if CALLS.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
        Err(BenchError::Flaky)
    } else {
        Ok(black_box(x) + 1)
    }
}

fn cases(c: &mut Criterion, subscribed: bool) {
    let label = if subscribed {
        "subscriber"
    } else {
        "no_subscriber"
    };
    // Held to the end of the run and never read: a slow subscriber.
    let receiver = subscribed.then(|| REG.events());
    let transitions = REG
        .register("bench.events.transition", BreakerConfig::default())
        .expect("a valid configuration");
    c.benchmark_group("events_closed_call")
        .bench_function(label, |b| b.iter(|| closed(black_box(1))));
    c.benchmark_group("events_retried_call")
        .bench_function(label, |b| b.iter(|| retried(black_box(1))));
    c.benchmark_group("events_transition")
        .bench_function(label, |b| {
            b.iter(|| {
                transitions.force_open();
                transitions.reset();
            })
        });
    drop(receiver);
}

fn without(c: &mut Criterion) {
    cases(c, false);
}

fn with(c: &mut Criterion) {
    cases(c, true);
}

criterion_group!(benches, without, with);
criterion_main!(benches);
