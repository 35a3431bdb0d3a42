use resilience::hedge;

struct Cache {
    hits: u32,
}

impl Cache {
    #[hedge(delay = 50ms)]
    async fn lookup(&mut self, key: &str) -> Result<usize, std::io::Error> {
        self.hits += 1;
        Ok(key.len())
    }
}

fn main() {}
