//! `#[retry]` as a user writes it: decisions from the error, exact delays on paused time,
//! the final error, `retry_if`, `on_retry`, `max_elapsed` and `retry_after`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use resilience::{retry, ErrorContext, MarcusError};
use tokio::time::Instant;

#[derive(Debug, thiserror::Error, MarcusError)]
enum ApiError {
    #[error("timed out")]
    #[marcus(category = transient)]
    Timeout {
        #[context]
        ctx: ErrorContext,
    },
    #[error("bad request")]
    #[marcus(category = business_logic)]
    BadRequest,
    #[error("slow down")]
    #[marcus(category = transient, retry_after = wait)]
    RateLimited { wait: Duration },
}

fn timeout() -> ApiError {
    ApiError::Timeout {
        ctx: ErrorContext::new(),
    }
}

#[retry(max_attempts = 4, backoff = none)]
fn succeeds_on_third(calls: &Cell<u32>) -> Result<u32, ApiError> {
    calls.set(calls.get() + 1);
    if calls.get() < 3 {
        return Err(timeout());
    }
    Ok(calls.get())
}

#[test]
fn retries_a_retryable_error_until_success() {
    let calls = Cell::new(0);
    assert_eq!(succeeds_on_third(&calls).unwrap(), 3);
    assert_eq!(calls.get(), 3);
}

#[retry(max_attempts = 5, backoff = none)]
fn always_bad_request(calls: &Cell<u32>) -> Result<(), ApiError> {
    calls.set(calls.get() + 1);
    Err(ApiError::BadRequest)
}

#[test]
fn a_marcus_error_that_is_not_retryable_is_returned_at_once() {
    let calls = Cell::new(0);
    assert!(matches!(
        always_bad_request(&calls),
        Err(ApiError::BadRequest)
    ));
    assert_eq!(calls.get(), 1);
}

#[retry(max_attempts = 3, backoff = none)]
fn always_times_out(calls: &Cell<u32>) -> Result<(), ApiError> {
    calls.set(calls.get() + 1);
    Err(timeout())
}

#[test]
fn the_last_error_comes_back_with_the_number_of_calls_made() {
    let calls = Cell::new(0);
    let err = always_times_out(&calls).unwrap_err();
    assert_eq!(calls.get(), 3);
    assert_eq!(err.context().map(|c| c.attempt), Some(3));
}

#[retry(max_attempts = 3, backoff = none)]
fn foreign_error(calls: &Cell<u32>) -> Result<(), String> {
    calls.set(calls.get() + 1);
    Err(format!("failure {}", calls.get()))
}

#[test]
fn an_error_type_without_marcus_error_is_retried() {
    let calls = Cell::new(0);
    assert_eq!(foreign_error(&calls), Err("failure 3".to_string()));
    assert_eq!(calls.get(), 3);
}

fn only_timeouts(e: &ApiError) -> bool {
    matches!(e, ApiError::Timeout { .. })
}

static SEEN: Mutex<Vec<(u32, Duration)>> = Mutex::new(Vec::new());

fn remember(_e: &ApiError, attempt: u32, delay: Duration) {
    SEEN.lock().unwrap().push((attempt, delay));
}

#[retry(max_attempts = 4, backoff = fixed(10ms), jitter = none, retry_if = only_timeouts, on_retry = remember)]
fn checked(calls: &Cell<u32>, errors: &[fn() -> ApiError]) -> Result<(), ApiError> {
    let i = calls.get() as usize;
    calls.set(calls.get() + 1);
    Err(errors[i.min(errors.len() - 1)]())
}

#[test]
fn retry_if_decides_and_on_retry_sees_each_attempt_and_delay() {
    SEEN.lock().unwrap().clear();
    let calls = Cell::new(0);
    let errors: [fn() -> ApiError; 3] = [timeout, timeout, || ApiError::RateLimited {
        wait: Duration::ZERO,
    }];
    let err = checked(&calls, &errors).unwrap_err();
    // The third error is retryable by its category, but `retry_if` says no.
    assert!(matches!(err, ApiError::RateLimited { .. }));
    assert_eq!(calls.get(), 3);
    assert_eq!(
        *SEEN.lock().unwrap(),
        vec![
            (1, Duration::from_millis(10)),
            (2, Duration::from_millis(10))
        ]
    );
}

/// Calls an async operation that fails `failures` times, and returns the virtual
/// instants of every call, relative to the first.
macro_rules! timeline {
    ($name:ident, $($attr:tt)*) => {
        #[retry($($attr)*)]
        async fn $name(failures: u32, calls: &Mutex<Vec<Instant>>) -> Result<(), ApiError> {
            let mut calls = calls.lock().unwrap();
            calls.push(Instant::now());
            if calls.len() as u32 <= failures {
                return Err(timeout());
            }
            Ok(())
        }
    };
}

fn gaps(calls: &Mutex<Vec<Instant>>) -> Vec<Duration> {
    let calls = calls.lock().unwrap();
    calls.windows(2).map(|w| w[1] - w[0]).collect()
}

timeline!(
    exponential_capped,
    max_attempts = 5,
    backoff = exponential(base = 100ms, factor = 2.0, max = 250ms),
    jitter = none
);
timeline!(
    fixed_delay,
    max_attempts = 3,
    backoff = fixed(1.5s),
    jitter = none
);
timeline!(
    linear_delay,
    max_attempts = 4,
    backoff = linear(base = 1s, step = 500ms),
    jitter = none
);
timeline!(
    bounded_by_elapsed,
    max_attempts = 10,
    backoff = fixed(1s),
    jitter = none,
    max_elapsed = 2500ms
);

#[tokio::test(start_paused = true)]
async fn exponential_backoff_has_exact_virtual_delays_and_a_cap() {
    let calls = Mutex::new(Vec::new());
    exponential_capped(10, &calls).await.unwrap_err();
    let ms = Duration::from_millis;
    assert_eq!(gaps(&calls), vec![ms(100), ms(200), ms(250), ms(250)]);
}

#[tokio::test(start_paused = true)]
async fn fixed_and_linear_backoff() {
    let calls = Mutex::new(Vec::new());
    fixed_delay(1, &calls).await.unwrap();
    assert_eq!(gaps(&calls), vec![Duration::from_millis(1500)]);

    let calls = Mutex::new(Vec::new());
    linear_delay(10, &calls).await.unwrap_err();
    let ms = Duration::from_millis;
    assert_eq!(gaps(&calls), vec![ms(1000), ms(1500), ms(2000)]);
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_stops_new_attempts() {
    let calls = Mutex::new(Vec::new());
    bounded_by_elapsed(100, &calls).await.unwrap_err();
    // Attempts at 0 s, 1 s and 2 s; one more would start at 3 s, past 2.5 s.
    assert_eq!(calls.lock().unwrap().len(), 3);
}

#[retry(max_attempts = 2, backoff = fixed(10ms), jitter = none)]
async fn rate_limited(calls: &AtomicU32) -> Result<(), ApiError> {
    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(ApiError::RateLimited {
            wait: Duration::from_secs(3),
        });
    }
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn retry_after_from_the_error_is_honoured() {
    let calls = AtomicU32::new(0);
    let start = Instant::now();
    rate_limited(&calls).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[retry(max_attempts = 3, backoff = fixed(Duration::from_millis(20)), jitter = none)]
async fn duration_expression(calls: &AtomicU32) -> Result<u32, ApiError> {
    match calls.fetch_add(1, Ordering::SeqCst) {
        0 => Err(timeout()),
        n => Ok(n),
    }
}

#[tokio::test(start_paused = true)]
async fn durations_may_be_expressions() {
    let calls = AtomicU32::new(0);
    let start = Instant::now();
    assert_eq!(duration_expression(&calls).await.unwrap(), 1);
    assert_eq!(start.elapsed(), Duration::from_millis(20));
}

#[retry(max_attempts = 3)]
async fn default_policy(calls: &AtomicU32) -> Result<(), ApiError> {
    calls.fetch_add(1, Ordering::SeqCst);
    Err(timeout())
}

#[tokio::test(start_paused = true)]
async fn the_default_delay_is_one_second_spread_by_half() {
    let calls = AtomicU32::new(0);
    let start = Instant::now();
    default_policy(&calls).await.unwrap_err();
    let waited = start.elapsed();
    // Exponential from 1 s doubling, each spread to 50–150 %: 1 s + 2 s in [1.5 s, 4.5 s].
    assert!(
        waited >= Duration::from_millis(1500) && waited <= Duration::from_millis(4500),
        "{waited:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// Fails twice with a 4 KiB result type, then succeeds.
#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none)]
async fn large_result(calls: &AtomicU32) -> Result<[u8; 4096], ApiError> {
    if calls.fetch_add(1, Ordering::Relaxed) < 2 {
        return Err(timeout());
    }
    Ok([7; 4096])
}

/// A retried async function's future holds what must outlive the sleep between attempts
/// (its arguments and the retry state), not the attempt's outcome: every caller stores
/// that future, and every spawn or `Box::pin` copies it.
#[tokio::test(start_paused = true)]
async fn the_future_does_not_keep_an_attempts_outcome_across_the_sleep() {
    let calls = AtomicU32::new(0);
    let future = large_result(&calls);
    let size = std::mem::size_of_val(&future);
    assert!(size < 4096, "the retried future is {size} bytes");
    assert!(matches!(future.await, Ok(bytes) if bytes[4095] == 7));
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}
