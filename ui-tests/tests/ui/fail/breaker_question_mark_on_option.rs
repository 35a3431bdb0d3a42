use resilience::circuit_breaker;

#[derive(Debug)]
struct Down;

impl From<resilience::CircuitOpen> for Down {
    fn from(_: resilience::CircuitOpen) -> Self {
        Down
    }
}

// `?` on an `Option` in a function returning `Result`: the error points at the `?`.
#[circuit_breaker]
fn first(items: &[u32]) -> Result<u32, Down> {
    let n = items.first()?;
    Ok(*n)
}

fn main() {}
