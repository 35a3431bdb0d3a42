use resilience::retry;

#[retry]
fn fetch() {}

fn main() {}
