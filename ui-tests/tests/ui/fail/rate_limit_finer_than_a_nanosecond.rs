use resilience::{rate_limit, RateLimited};

// A million calls per microsecond: the spacing between two calls rounds to zero.
#[rate_limit(limit = 1000000, per = 1us)]
fn call() -> Result<(), RateLimited> {
    Ok(())
}

fn main() {}
