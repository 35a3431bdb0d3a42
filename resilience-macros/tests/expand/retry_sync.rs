// `#[retry]` on a sync function: the loop in the function's own body.
#[retry(max_attempts = 3, backoff = exponential(base = 100ms, factor = 2.0, max = 5s))]
fn fetch(id: u64) -> Result<u64, FetchError> {
    load(id)
}
