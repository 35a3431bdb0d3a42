use resilience::{bulkhead, BulkheadFull};

#[derive(Debug)]
enum E {
    X,
    Full,
}
impl From<BulkheadFull> for E {
    fn from(_: BulkheadFull) -> Self {
        E::Full
    }
}

#[bulkhead(max_concurrent = 2, max_wait = 100)]
async fn f() -> Result<(), E> {
    Err(E::X)
}

fn main() {}
