// `#[rate_limit]` with a burst and a wait for a place, and per key.
#[rate_limit(name = "api", limit = 100, per = 1s, burst = 20, max_delay = 50ms)]
async fn call(id: u64) -> Result<u64, ApiError> {
    load(id).await
}

#[rate_limit(limit = 10, per = 1s, key = tenant)]
fn per_tenant(tenant: &str) -> Result<u64, ApiError> {
    load(tenant)
}

// One limit across every instance connected to the cluster (an `async fn`).
#[rate_limit(name = "openai", limit = 500, per = 1m, scope = cluster, expected_instances = 3)]
async fn shared_quota(id: u64) -> Result<u64, ApiError> {
    load(id).await
}

// Weighted calls: each takes `tokens` units of the limit.
#[rate_limit(name = "llm", limit = 90000, per = 1m, cost = tokens)]
fn complete(tokens: u32) -> Result<u64, ApiError> {
    load(tokens)
}
