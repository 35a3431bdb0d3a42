// `#[circuit_breaker]` on a sync function, with `record_if`.
#[circuit_breaker(name = "kanban", failure_threshold = 5, recovery_timeout = 30s, record_if = counts)]
fn fetch(id: u64) -> Result<u64, KanbanError> {
    load(id)
}
