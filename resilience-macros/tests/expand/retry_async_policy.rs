// `#[retry]` on an `async fn`, with a named policy, `retry_if` and `on_retry`.
#[retry(policy = "kanban", max_attempts = 5, retry_if = is_transient, on_retry = log_retry)]
async fn fetch(id: u64) -> Result<u64, FetchError> {
    let board = load(id).await?;
    Ok(board)
}
