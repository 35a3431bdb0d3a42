use resilience::{bulkhead, BulkheadFull};

#[bulkhead(max_concurrent = 0)]
fn query() -> Result<(), BulkheadFull> {
    Ok(())
}

fn main() {}
