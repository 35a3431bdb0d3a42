use resilience::error_context;

#[error_context("fetch", agent_id = "a", agent_id = "b")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
