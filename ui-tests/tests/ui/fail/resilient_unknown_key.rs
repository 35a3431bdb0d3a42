use resilience::{resilient, CircuitOpen};

#[derive(Debug)]
struct E;
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E
    }
}

#[resilient(max_attempts = 3, threshold = 5)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
