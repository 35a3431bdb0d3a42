use resilience::retry;

#[retry(backoff = fibonacci(base = 1s))]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
