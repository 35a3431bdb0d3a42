use resilience::{bulkhead, BulkheadFull};

#[bulkhead(max_concurrency = 4)]
fn query() -> Result<(), BulkheadFull> {
    Ok(())
}

fn main() {}
