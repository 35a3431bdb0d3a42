// `#[fallback]`: two fallbacks, then the cached last success.
#[fallback(from_replica, from_disk, cached)]
fn price(item: &str) -> Result<u32, PriceError> {
    live_price(item)
}

// `with_error`: the error goes to the fallback, by value.
#[fallback(explain, with_error)]
async fn quote(item: &str) -> Result<u32, PriceError> {
    live_quote(item).await
}
