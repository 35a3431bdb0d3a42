// An async body that is one expression: the error comes alone, without an
// `unused_braces` warning beside it.
#[derive(Debug)]
enum E {
    X,
}

#[resilience::retry(max_attempts = 0)]
async fn f() -> Result<(), E> {
    Err(E::X)
}

fn main() {}
