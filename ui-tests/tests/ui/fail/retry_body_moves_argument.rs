use resilience::retry;

fn consume(_s: String) {}

#[retry(max_attempts = 3)]
fn send(message: String) -> Result<(), std::io::Error> {
    consume(message);
    Ok(())
}

fn main() {}
