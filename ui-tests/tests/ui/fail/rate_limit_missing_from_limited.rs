use resilience::rate_limit;

#[derive(Debug)]
struct PlainError;

#[rate_limit(limit = 10, per = 1s)]
async fn call() -> Result<(), PlainError> {
    Ok(())
}

fn main() {}
