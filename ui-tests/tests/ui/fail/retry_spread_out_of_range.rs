use resilience::retry;

#[retry(jitter = spread(1.5))]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
