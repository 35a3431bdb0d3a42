// `policy` names a registry retry policy: a newline in it would forge a log line.
#[derive(Debug)]
enum E {
    X,
}

#[resilience::retry(policy = "kanban\nboards")]
async fn f() -> Result<(), E> {
    Err(E::X)
}

fn main() {}
