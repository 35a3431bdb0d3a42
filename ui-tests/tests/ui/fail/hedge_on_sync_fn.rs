use resilience::hedge;

#[hedge(delay = 50ms)]
fn lookup(key: &str) -> Result<usize, std::io::Error> {
    Ok(key.len())
}

fn main() {}
