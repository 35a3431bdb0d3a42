use resilience::{timeout, TimedOut};

#[derive(Debug)]
struct E;
impl From<TimedOut> for E {
    fn from(_: TimedOut) -> Self {
        E
    }
}

#[timeout(0ms)]
async fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
