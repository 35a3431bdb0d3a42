use resilience::{adaptive_limit, Overloaded};

#[adaptive_limit(name = "search", scope = cluster)]
fn search() -> Result<(), Overloaded> {
    Ok(())
}

fn main() {}
