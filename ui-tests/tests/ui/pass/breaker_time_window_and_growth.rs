//! `rate_window`, `recovery_factor` and `max_recovery_timeout` on `#[circuit_breaker]` and
//! `#[resilient]`, as literals and as expressions, compile without warnings.
#![deny(warnings)]

use std::time::Duration;

use resilience::{circuit_breaker, resilient, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

const WINDOW: Duration = Duration::from_secs(90);

#[circuit_breaker(
    failure_rate = 50,
    minimum_calls = 20,
    rate_window = 1m,
    recovery_timeout = 1s,
    recovery_factor = 2,
    max_recovery_timeout = 30s
)]
fn literals() -> Result<(), E> {
    Ok(())
}

#[circuit_breaker(slow_call = 2s, slow_call_rate = 80, rate_window = WINDOW, recovery_factor = 1.5)]
fn expressions() -> Result<(), E> {
    Ok(())
}

#[resilient(max_attempts = 2, failure_rate = 50, rate_window = 30s, recovery_factor = 3, max_recovery_timeout = 10m)]
fn all_in_one() -> Result<(), E> {
    Ok(())
}

fn main() {
    let _ = literals();
    let _ = expressions();
    let _ = all_in_one();
}
