use resilience::fallback;

#[fallback(with_error)]
fn fetch(id: u64) -> Result<u32, ()> {
    Err(())
}

fn main() {}
