use resilience::{adaptive_limit, Overloaded};

#[adaptive_limit(name = "search", min_limit = 50, max_limit = 10)]
fn search() -> Result<(), Overloaded> {
    Ok(())
}

fn main() {}
