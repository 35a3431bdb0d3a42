// Fault injection: a breaker outside a retry has its own chaos gate (faults named
// "kanban", once per call) and the body another (faults named by the function, once per
// attempt); an innermost breaker draws both in one gate (see `circuit_breaker.rs`).
#[circuit_breaker(name = "kanban")]
#[retry(max_attempts = 2, backoff = none)]
async fn fetch(id: u64) -> Result<u64, KanbanError> {
    load(id).await
}
