use resilience::retry;

#[retry]
struct NotAFunction;

fn main() {}
