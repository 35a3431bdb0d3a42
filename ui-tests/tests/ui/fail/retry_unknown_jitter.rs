use resilience::retry;

#[retry(jitter = gaussian)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
