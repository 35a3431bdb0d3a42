// An adaptive limit on an `async fn`, waiting up to 50 ms by priority, and on a sync fn.
#[adaptive_limit(name = "search", algorithm = vegas, min_limit = 2, max_limit = 100, max_wait = 50ms, priority = priority)]
async fn search(q: &str, priority: Priority) -> Result<Hits, SearchError> {
    backend(q).await
}

#[adaptive_limit(algorithm = aimd, backoff_ratio = 0.8)]
fn lookup(id: u64) -> Result<Row, DbError> {
    db::get(id)
}
