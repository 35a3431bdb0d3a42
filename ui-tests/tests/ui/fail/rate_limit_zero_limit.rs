use resilience::{rate_limit, RateLimited};

#[rate_limit(limit = 0, per = 1s)]
fn call() -> Result<(), RateLimited> {
    Ok(())
}

fn main() {}
