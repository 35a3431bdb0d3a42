use resilience::retry;

#[retry(max_attempts = 0)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
