use resilience::{adaptive_limit, Overloaded};

#[adaptive_limit(name = "search", algorithm = cubic)]
fn search() -> Result<(), Overloaded> {
    Ok(())
}

fn main() {}
