use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[circuit_breaker(rate_window = 60s)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
