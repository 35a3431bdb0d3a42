//! Issue 16, items 2–4: what `#[retry]` decides for errors it sees through `dyn Error`
//! (`anyhow::Error`, `Box<dyn Error + Send + Sync>`), for foreign errors without
//! `retry_if`, and for a `retry_after` longer than `max_retry_after`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::{circuit_breaker, registry, retry, MarcusError};
use tokio::time::Instant;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("upstream down")]
struct Down;

static ANYHOW_RETRIES: AtomicU32 = AtomicU32::new(0);

fn count_anyhow(_: &anyhow::Error, _: u32, _: Duration) {
    ANYHOW_RETRIES.fetch_add(1, Ordering::SeqCst);
}

// The retry is outside the breaker: after the first failure opens it, the second attempt
// is refused with `CircuitOpen`, wrapped in an `anyhow::Error`.
#[retry(max_attempts = 5, backoff = none, on_retry = count_anyhow)]
#[circuit_breaker(name = "fixes.anyhow_open", failure_threshold = 1)]
fn through_anyhow(calls: &Cell<u32>) -> anyhow::Result<()> {
    calls.set(calls.get() + 1);
    Err(Down.into())
}

#[test]
fn a_retry_does_not_retry_into_an_open_breaker_behind_anyhow() {
    let calls = Cell::new(0);
    let error = through_anyhow(&calls).unwrap_err();
    assert_eq!(
        calls.get(),
        1,
        "the body ran once: the breaker opened after it"
    );
    assert!(
        error.downcast_ref::<resilience::CircuitOpen>().is_some(),
        "the refusal is returned: {error}"
    );
    assert_eq!(
        ANYHOW_RETRIES.load(Ordering::SeqCst),
        1,
        "one retry (after the body's own failure), none after the refusal"
    );
    assert_eq!(
        registry().breaker("fixes.anyhow_open").unwrap().state(),
        resilience::BreakerState::Open
    );
}

static BOXED_RETRIES: AtomicU32 = AtomicU32::new(0);

fn count_boxed(_: &BoxError, _: u32, _: Duration) {
    BOXED_RETRIES.fetch_add(1, Ordering::SeqCst);
}

#[retry(max_attempts = 5, backoff = none, on_retry = count_boxed)]
#[circuit_breaker(name = "fixes.boxed_open", failure_threshold = 1)]
fn through_box(calls: &Cell<u32>) -> Result<(), BoxError> {
    calls.set(calls.get() + 1);
    Err(Box::new(Down))
}

#[test]
fn a_retry_does_not_retry_into_an_open_breaker_behind_a_box() {
    let calls = Cell::new(0);
    let error = through_box(&calls).unwrap_err();
    assert_eq!(calls.get(), 1);
    assert!(error.downcast_ref::<resilience::CircuitOpen>().is_some());
    assert_eq!(BOXED_RETRIES.load(Ordering::SeqCst), 1);
}

/// A `CircuitOpen` further down a source chain decides too.
#[derive(Debug, thiserror::Error)]
#[error("fetching the board failed")]
struct Wrapped(#[source] resilience::CircuitOpen);

#[retry(max_attempts = 4, backoff = none)]
fn wrapped_open(calls: &Cell<u32>) -> anyhow::Result<()> {
    calls.set(calls.get() + 1);
    Err(Wrapped(resilience::CircuitOpen::from_name("fixes.wrapped")).into())
}

#[test]
fn a_circuit_open_in_the_source_chain_is_not_retried() {
    let calls = Cell::new(0);
    assert!(wrapped_open(&calls).is_err());
    assert_eq!(calls.get(), 1);
}

#[test]
#[allow(clippy::needless_borrow)] // the borrows are the autoref specialization
fn the_view_of_a_wrapped_error_names_the_inner_code() {
    #[allow(unused_imports)]
    use resilience::__private::{
        Probe, ViewDyn as _, ViewDynSync as _, ViewError as _, ViewMarcus as _, ViewOpaque as _,
    };
    let mut error = anyhow::Error::from(resilience::CircuitOpen::from_name("fixes.code"));
    let view = (&&&&&Probe::new(&mut error)).view();
    assert_eq!(view.kind(), "CIRCUIT_OPEN_ERROR");
    assert!(!view.retryable());
    let mut boxed: BoxError = Box::new(resilience::errors::RateLimit::new("slow"));
    let view = (&&&&&Probe::new(&mut boxed)).view();
    assert_eq!(view.kind(), "RATE_LIMIT_ERROR");
    assert!(view.retryable());
}

// Item 3: a foreign error without `retry_if` is classified.

#[derive(Debug, thiserror::Error)]
#[error("HTTP status 404 Not Found")]
struct NotFound;

#[derive(Debug, thiserror::Error)]
#[error("HTTP status 401 Unauthorized")]
struct Unauthorized;

#[derive(Debug, thiserror::Error)]
#[error("something odd happened")]
struct Odd;

#[retry(max_attempts = 3, backoff = none)]
fn not_found(calls: &Cell<u32>) -> Result<(), NotFound> {
    calls.set(calls.get() + 1);
    Err(NotFound)
}

#[retry(max_attempts = 3, backoff = none)]
fn unauthorized(calls: &Cell<u32>) -> Result<(), BoxError> {
    calls.set(calls.get() + 1);
    Err(Box::new(Unauthorized))
}

#[retry(max_attempts = 3, backoff = none)]
fn odd(calls: &Cell<u32>) -> Result<(), Odd> {
    calls.set(calls.get() + 1);
    Err(Odd)
}

#[retry(max_attempts = 3, backoff = none)]
fn io_refused(calls: &Cell<u32>) -> Result<(), std::io::Error> {
    calls.set(calls.get() + 1);
    Err(std::io::ErrorKind::ConnectionRefused.into())
}

#[test]
fn a_foreign_error_is_classified_without_retry_if() {
    let calls = Cell::new(0);
    assert!(not_found(&calls).is_err());
    assert_eq!(calls.get(), 1, "a 404 is not retried");

    let calls = Cell::new(0);
    assert!(unauthorized(&calls).is_err());
    assert_eq!(calls.get(), 1, "a 401 behind a Box is not retried");

    let calls = Cell::new(0);
    assert!(odd(&calls).is_err());
    assert_eq!(calls.get(), 3, "an unknown error is still retried");

    let calls = Cell::new(0);
    assert!(io_refused(&calls).is_err());
    assert_eq!(calls.get(), 3, "a refused connection is retried");
}

// Item 4: `max_retry_after`.

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("slow down")]
#[marcus(category = transient, retry_after = wait)]
struct SlowDown {
    wait: Duration,
}

#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none, max_retry_after = 5s)]
async fn asks_to_wait(calls: &Cell<u32>, wait: Duration) -> Result<(), SlowDown> {
    calls.set(calls.get() + 1);
    Err(SlowDown { wait })
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_up_to_max_retry_after_is_waited_in_full() {
    let calls = Cell::new(0);
    let start = Instant::now();
    assert!(asks_to_wait(&calls, Duration::from_secs(4)).await.is_err());
    assert_eq!(calls.get(), 3);
    assert_eq!(start.elapsed(), Duration::from_secs(8), "two waits of 4 s");
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_past_max_retry_after_ends_the_retries() {
    let calls = Cell::new(0);
    let start = Instant::now();
    let error = asks_to_wait(&calls, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(calls.get(), 1, "no retry: the server asked for too long");
    assert_eq!(
        error.wait,
        Duration::from_secs(30),
        "that error is returned"
    );
    assert_eq!(start.elapsed(), Duration::ZERO, "and nothing was slept");
}

#[retry(max_attempts = 2, backoff = none)]
async fn default_limit(calls: &Cell<u32>, wait: Duration) -> Result<(), SlowDown> {
    calls.set(calls.get() + 1);
    Err(SlowDown { wait })
}

#[tokio::test(start_paused = true)]
async fn the_default_max_retry_after_is_a_minute() {
    assert_eq!(
        resilience::RetryConfig::default().max_retry_after,
        Duration::from_secs(60)
    );
    let calls = Cell::new(0);
    let start = Instant::now();
    assert!(default_limit(&calls, Duration::from_secs(60))
        .await
        .is_err());
    assert_eq!((calls.get(), start.elapsed()), (2, Duration::from_secs(60)));
    let calls = Cell::new(0);
    assert!(default_limit(&calls, Duration::from_secs(61))
        .await
        .is_err());
    assert_eq!(calls.get(), 1);
}
