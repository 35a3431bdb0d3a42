// Fault injection through a bulkhead and a rate limiter: the bulkhead's gate is inside
// its place (faults named "kanban.pool", an injected refusal its `BulkheadFull` with the
// key); the innermost rate limiter's, after admission, draws the function's faults too.
#[bulkhead(name = "kanban.pool", key = tenant, max_concurrent = 4)]
#[rate_limit(name = "kanban.rate", limit = 10, per = 1s)]
async fn list(tenant: &str) -> Result<u64, KanbanError> {
    load(tenant).await
}
