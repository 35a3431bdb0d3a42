use resilience::retry;

#[retry]
fn fetch() -> Option<u32> {
    None
}

fn main() {}
