use resilience::bulkhead;

#[derive(Debug)]
struct PlainError;

#[bulkhead(max_concurrent = 4)]
fn query() -> Result<(), PlainError> {
    Ok(())
}

fn main() {}
