use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct Down;

impl From<CircuitOpen> for Down {
    fn from(_: CircuitOpen) -> Self {
        Down
    }
}

#[circuit_breaker(registry = "global")]
fn fetch() -> Result<u32, Down> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
