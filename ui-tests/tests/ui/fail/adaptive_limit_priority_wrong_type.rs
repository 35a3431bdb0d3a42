use resilience::{adaptive_limit, Overloaded};

#[adaptive_limit(name = "search", max_wait = 10ms, priority = level)]
fn search(level: u8) -> Result<(), Overloaded> {
    let _ = level;
    Ok(())
}

fn main() {}
