use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[circuit_breaker(failure_rate = 150, minimum_calls = 10, window_size = 20)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
