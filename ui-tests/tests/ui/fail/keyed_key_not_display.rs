use resilience::{bulkhead, BulkheadFull};

struct Host;

#[bulkhead(max_concurrent = 2, key = host)]
fn query(host: Host) -> Result<(), BulkheadFull> {
    let _ = host;
    Ok(())
}

fn main() {}
