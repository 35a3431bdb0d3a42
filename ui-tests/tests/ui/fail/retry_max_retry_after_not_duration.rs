use resilience::retry;

#[retry(max_retry_after = 30)]
fn fetch() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
