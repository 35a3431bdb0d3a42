use resilience::{rate_limit, RateLimited};

#[rate_limit(limit = 10, per = 1s, bursts = 2)]
fn call() -> Result<(), RateLimited> {
    Ok(())
}

fn main() {}
