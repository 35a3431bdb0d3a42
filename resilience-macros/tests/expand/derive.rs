// `#[derive(MarcusError)]` on an enum: codes, categories, a context, delegation.
#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
pub enum KanbanError {
    #[error("board {board} timed out")]
    #[marcus(category = transient, severity = medium,
             remediation(immediate = "Retry with backoff"))]
    Timeout { board: String, #[context] ctx: resilience::ErrorContext },

    #[error("rate limited")]
    #[marcus(code = "KANBAN_RATE_LIMITED", category = transient, retry_after = wait)]
    RateLimited { wait: std::time::Duration },

    #[error(transparent)]
    CircuitOpen(#[from] resilience::CircuitOpen),
}
