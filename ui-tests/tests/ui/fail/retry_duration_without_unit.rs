use resilience::retry;

#[retry(backoff = fixed(250))]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
