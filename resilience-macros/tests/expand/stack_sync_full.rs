// Four layers on a sync function: fallback, retry, breaker, context (innermost).
#[fallback(cached_board)]
#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none)]
#[circuit_breaker(name = "kanban")]
#[error_context("fetch_board", agent_id = agent)]
fn fetch_board(agent: &str, id: u64) -> Result<Board, KanbanError> {
    load(agent, id)
}
