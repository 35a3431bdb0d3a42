// `#[resilient]`: `#[retry]` written before `#[circuit_breaker]`, in one attribute.
#[resilient(max_attempts = 3, backoff = none, name = "kanban", failure_threshold = 5)]
fn fetch(id: u64) -> Result<u64, KanbanError> {
    load(id)
}
