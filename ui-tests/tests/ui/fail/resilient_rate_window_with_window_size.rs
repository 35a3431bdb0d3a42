use resilience::{resilient, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[resilient(max_attempts = 2, failure_rate = 50, rate_window = 1m, window_size = 50)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
