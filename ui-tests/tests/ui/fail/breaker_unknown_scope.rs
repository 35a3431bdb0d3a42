use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[circuit_breaker(scope = global)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
