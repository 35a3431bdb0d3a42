use resilience::feature_switch;

#[feature_switch]
fn recommendations() -> Result<Vec<String>, String> {
    Ok(Vec::new())
}

fn main() {}
