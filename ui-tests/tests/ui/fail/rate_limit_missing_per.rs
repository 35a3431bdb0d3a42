use resilience::{rate_limit, RateLimited};

#[rate_limit(limit = 100)]
fn call() -> Result<(), RateLimited> {
    Ok(())
}

fn main() {}
