use resilience::retry;

#[retry(max_attempts = 3, attempts = 5)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
