use resilience::{rate_limit, RateLimited};

#[rate_limit(name = "openai", limit = 500, per = 1m, scope = cluster, key = tenant)]
async fn call(tenant: &str) -> Result<(), RateLimited> {
    let _ = tenant;
    Ok(())
}

fn main() {}
