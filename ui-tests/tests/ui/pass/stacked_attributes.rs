//! Every attribute stacked, on every shape of function, compiles without warnings.
#![deny(warnings)]

use resilience::{circuit_breaker, error_context, fallback, retry, CircuitOpen, ErrorContext, MarcusError};

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum E {
    #[error("down")]
    Down {
        #[context]
        ctx: ErrorContext,
    },
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

fn cached(_id: u64) -> Result<u64, E> {
    Ok(0)
}

#[fallback(cached)]
#[retry(max_attempts = 3, backoff = exponential(base = 1ms, factor = 2.0, max = 5ms), jitter = full)]
#[circuit_breaker(name = "pass.stacked", failure_threshold = 5, recovery_timeout = 30s)]
#[error_context("fetch", task_id = id)]
fn fetch(id: u64) -> Result<u64, E> {
    if id == 0 {
        return Err(E::Down { ctx: ErrorContext::new() });
    }
    Ok(id)
}

struct S;

impl S {
    #[resilience::retry(max_attempts = 2, backoff = none)]
    #[resilience::circuit_breaker(window = 1m, max_failures_per_window = 3, failure_rate = 50, minimum_calls = 5, window_size = 10, slow_call = 2s, slow_call_rate = 80)]
    async fn method(&mut self, x: &str) -> Result<usize, E> {
        Ok(x.len())
    }
}

fn main() {
    let _ = fetch(1);
    let _ = S.method("x");
}
