use resilience::retry;

#[retry(nested = "independent")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
