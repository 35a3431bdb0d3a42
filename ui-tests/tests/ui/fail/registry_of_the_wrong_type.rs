use resilience::{bulkhead, BulkheadFull};

#[derive(Debug)]
struct Down;

impl From<BulkheadFull> for Down {
    fn from(_: BulkheadFull) -> Self {
        Down
    }
}

static LIMITS: u32 = 5;

#[bulkhead(registry = LIMITS, max_concurrent = 2)]
fn fetch() -> Result<u32, Down> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
