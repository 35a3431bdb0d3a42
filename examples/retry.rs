//! `#[retry]` on sync and async functions: backoff, jitter, decisions from the error,
//! `retry_if`, `on_retry`, and a shared retry budget.
//!
//! Run it with `cargo run --example retry`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::errors::{NetworkTimeout, Validation};
use resilience::{retry, retry_budget, Error, MarcusError};

static CALLS: AtomicU32 = AtomicU32::new(0);

fn log_retry(error: &Error, attempt: u32, delay: Duration) {
    println!(
        "  attempt {attempt} failed ({}), retrying in {delay:?}",
        error.code()
    );
}

/// Fails twice with a transient error, then succeeds.
#[retry(max_attempts = 4, backoff = exponential(base = 20ms, factor = 2.0, max = 100ms), jitter = equal, on_retry = log_retry)]
fn flaky_fetch() -> Result<&'static str, Error> {
    if CALLS.fetch_add(1, Ordering::SeqCst) < 2 {
        return Err(NetworkTimeout::new("upstream took too long").into());
    }
    Ok("payload")
}

/// A validation error is not retryable: one call, then the error.
#[retry(max_attempts = 4, backoff = fixed(10ms), on_retry = log_retry)]
fn validate(input: &str) -> Result<usize, Error> {
    if input.is_empty() {
        return Err(Validation::new("input is empty").into());
    }
    Ok(input.len())
}

/// Async, on tokio's timer, drawing retries from a shared budget.
#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none, budget = "example")]
async fn async_fetch(fail: bool) -> Result<u32, Error> {
    if fail {
        return Err(NetworkTimeout::new("still down").into());
    }
    Ok(7)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("flaky_fetch:");
    println!("  -> {:?}", flaky_fetch());

    println!("validate(\"\"):");
    let err = validate("").unwrap_err();
    println!("  -> {} (retryable: {})", err.code(), err.retryable());

    println!("async_fetch(true):");
    let err = async_fetch(true).await.unwrap_err();
    let attempts = err.context().map_or(0, |c| c.attempt);
    println!("  -> {} after {attempts} calls", err.code());
    println!("async_fetch(false): {:?}", async_fetch(false).await.ok());
    println!(
        "budget \"example\": {} tokens left",
        retry_budget("example").available()
    );
}
