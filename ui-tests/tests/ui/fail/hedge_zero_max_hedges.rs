use resilience::hedge;

#[hedge(delay = 50ms, max_hedges = 0)]
async fn lookup(key: &str) -> Result<usize, std::io::Error> {
    Ok(key.len())
}

fn main() {}
