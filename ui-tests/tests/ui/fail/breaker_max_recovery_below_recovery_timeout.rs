use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[circuit_breaker(recovery_timeout = 10s, recovery_factor = 2, max_recovery_timeout = 5s)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
