use resilience::{rate_limit, RateLimited};

// A signed cost: the attribute wants an unsigned integer.
#[rate_limit(name = "llm", limit = 1000, per = 1m, cost = tokens)]
fn complete(tokens: i64) -> Result<(), RateLimited> {
    let _ = tokens;
    Ok(())
}

fn main() {}
