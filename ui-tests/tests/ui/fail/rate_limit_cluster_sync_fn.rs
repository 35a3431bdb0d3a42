use resilience::{rate_limit, RateLimited};

#[rate_limit(name = "openai", limit = 500, per = 1m, scope = cluster)]
fn call() -> Result<(), RateLimited> {
    Ok(())
}

fn main() {}
