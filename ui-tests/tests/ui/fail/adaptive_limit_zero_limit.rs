use resilience::{adaptive_limit, Overloaded};

#[adaptive_limit(name = "search", max_limit = 0)]
fn search() -> Result<(), Overloaded> {
    Ok(())
}

fn main() {}
