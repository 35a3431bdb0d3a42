use resilience::{rate_limit, RateLimited};

#[rate_limit(name = "openai", limit = 500, per = 1m, expected_instances = 3)]
async fn call() -> Result<(), RateLimited> {
    Ok(())
}

fn main() {}
