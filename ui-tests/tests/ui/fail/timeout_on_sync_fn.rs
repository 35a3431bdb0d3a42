use resilience::{timeout, TimedOut};

#[derive(Debug)]
struct E;
impl From<TimedOut> for E {
    fn from(_: TimedOut) -> Self {
        E
    }
}

#[timeout(5s)]
fn call() -> Result<(), E> {
    Ok(())
}

fn main() {}
