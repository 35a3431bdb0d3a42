use resilience::retry;

#[retry(backoff = fixed(250days))]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
