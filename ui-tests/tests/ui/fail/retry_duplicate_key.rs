use resilience::retry;

#[retry(max_attempts = 3, max_attempts = 5)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
