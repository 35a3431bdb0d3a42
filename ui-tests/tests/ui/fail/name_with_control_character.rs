// A name is written into logs, metric labels and configuration files: a control
// character in it is refused at the string.
use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
enum E {
    X,
    Open,
}
impl From<CircuitOpen> for E {
    fn from(_: CircuitOpen) -> Self {
        E::Open
    }
}

#[circuit_breaker(name = "kanban\0boards")]
async fn f() -> Result<(), E> {
    Err(E::X)
}

fn main() {}
