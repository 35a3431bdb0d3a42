// `#[bulkhead]` on a sync function (a blocking wait) and on an `async fn` (an async one).
#[bulkhead(name = "db", max_concurrent = 10, max_wait = 100ms)]
fn query(id: u64) -> Result<u64, DbError> {
    load(id)
}

#[bulkhead(max_concurrent = 4)]
async fn fetch(id: u64) -> Result<u64, DbError> {
    load(id).await
}
