use resilience::hedge;

#[hedge(delay = 50ms)]
async fn lookup(mut keys: Vec<String>) -> Result<usize, std::io::Error> {
    keys.sort();
    Ok(keys.len())
}

fn main() {}
