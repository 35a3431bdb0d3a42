use resilience::retry;

#[retry(nested = bogus)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
