// `#[hedge]`: a second run after 50ms, the first answer wins.
#[hedge(delay = 50ms, max_hedges = 1)]
async fn fetch(id: u64) -> Result<u64, FetchError> {
    load(id).await
}
