use resilience::retry;

fn is_blank(page: &String) -> bool {
    page.is_empty()
}

#[retry(max_attempts = 3, retry_if_ok = is_blank)]
fn fetch_page() -> Result<Vec<u32>, std::io::Error> {
    Ok(Vec::new())
}

fn main() {}
