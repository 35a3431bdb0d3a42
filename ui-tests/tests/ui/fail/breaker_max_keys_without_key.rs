use resilience::{circuit_breaker, CircuitOpen};

#[circuit_breaker(name = "upstream", max_keys = 100)]
fn call(host: &str) -> Result<(), CircuitOpen> {
    let _ = host;
    Ok(())
}

fn main() {}
