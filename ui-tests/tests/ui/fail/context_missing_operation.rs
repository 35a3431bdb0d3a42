use resilience::error_context;

#[error_context(agent_id = "a")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
