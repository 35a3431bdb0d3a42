use resilience::retry;

#[derive(Debug)]
struct ParseFailed;

fn parse(text: &str) -> Result<u32, ParseFailed> {
    text.parse().map_err(|_| ParseFailed)
}

// `?` converts `ParseFailed` into the function's error, and `io::Error` has no
// `From<ParseFailed>`: the error points at the `?`, as it would without the attribute.
#[retry(max_attempts = 3)]
fn load(text: &str) -> Result<u32, std::io::Error> {
    let n = parse(text)?;
    Ok(n)
}

fn main() {}
