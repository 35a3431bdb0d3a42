// `#[circuit_breaker]` pointed at a test's own registry (`registry = STATIC`).
#[circuit_breaker(name = "kanban", registry = TEST_REGISTRY)]
fn fetch(id: u64) -> Result<u64, KanbanError> {
    load(id)
}
