// Fault injection through an adaptive limit: its gate is inside its place (faults named
// "search", an injected refusal its `Overloaded` at the call's priority, the place given
// back); the innermost layer, it draws the function's faults too. A sync fn sleeps an
// injected delay on its thread.
#[adaptive_limit(name = "search", max_wait = 50ms, priority = priority)]
async fn search(q: &str, priority: Priority) -> Result<Hits, SearchError> {
    backend(q).await
}

#[adaptive_limit(name = "lookup")]
fn lookup(id: u64) -> Result<Row, DbError> {
    db::get(id)
}
