use resilience::error_context;

#[error_context("fetch", correlation_id = "abc")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
