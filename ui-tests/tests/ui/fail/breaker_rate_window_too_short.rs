use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[circuit_breaker(failure_rate = 50, rate_window = 500ms)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
