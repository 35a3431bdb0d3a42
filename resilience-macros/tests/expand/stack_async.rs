// The README's stack on an `async fn`: the attribute written first is the outermost.
#[retry(max_attempts = 3, backoff = exponential(base = 100ms, factor = 2.0, max = 5s))]
#[circuit_breaker(name = "kanban", failure_threshold = 5, recovery_timeout = 30s)]
async fn fetch_board(id: u64) -> Result<Board, KanbanError> {
    load(id).await
}
