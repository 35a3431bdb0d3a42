use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[circuit_breaker(recovery_factor = 0.5)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
