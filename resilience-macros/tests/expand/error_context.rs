// `#[error_context]`: the known keys and a custom one.
#[error_context("fetch_board", agent_id = agent, board = id)]
async fn fetch_board(agent: &str, id: u64) -> Result<Board, KanbanError> {
    load(id).await
}
