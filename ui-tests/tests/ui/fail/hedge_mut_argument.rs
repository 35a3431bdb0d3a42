use resilience::hedge;

#[hedge(delay = 50ms)]
async fn lookup(key: &str, seen: &mut Vec<String>) -> Result<usize, std::io::Error> {
    seen.push(key.to_owned());
    Ok(key.len())
}

fn main() {}
