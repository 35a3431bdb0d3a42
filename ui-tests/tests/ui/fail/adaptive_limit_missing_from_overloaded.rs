use resilience::adaptive_limit;

#[derive(Debug)]
struct PlainError;

#[adaptive_limit(name = "search")]
fn search() -> Result<(), PlainError> {
    Ok(())
}

fn main() {}
