// `#[timeout]` (async only): the monitor records the body's error just inside it.
#[timeout(250ms)]
async fn fetch(id: u64) -> Result<u64, FetchError> {
    load(id).await
}
