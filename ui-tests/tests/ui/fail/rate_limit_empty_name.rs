use resilience::{rate_limit, RateLimited};

#[derive(Debug)]
enum E {
    X,
    Limited,
}
impl From<RateLimited> for E {
    fn from(_: RateLimited) -> Self {
        E::Limited
    }
}

#[rate_limit(name = " ", limit = 10, per = 1s)]
async fn f() -> Result<(), E> {
    Err(E::X)
}

fn main() {}
