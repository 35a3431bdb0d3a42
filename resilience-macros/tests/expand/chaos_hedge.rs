// Fault injection through a hedge: each run draws the faults named as the hedge
// ("search") and, the hedge being the innermost layer, the function's, in one gate.
#[hedge(name = "search", delay = 50ms, max_hedges = 2)]
async fn search(query: &str) -> Result<u64, SearchError> {
    lookup(query).await
}
