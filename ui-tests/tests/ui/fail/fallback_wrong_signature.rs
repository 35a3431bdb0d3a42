use resilience::fallback;

fn cached(_id: String) -> Result<u32, ()> {
    Ok(0)
}

#[fallback(cached)]
fn fetch(id: u64) -> Result<u32, ()> {
    Err(())
}

fn main() {}
