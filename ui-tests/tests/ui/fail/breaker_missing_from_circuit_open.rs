use resilience::circuit_breaker;

#[derive(Debug)]
struct PlainError;

#[circuit_breaker(name = "payments")]
fn charge() -> Result<(), PlainError> {
    Ok(())
}

fn main() {}
