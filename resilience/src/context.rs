//! Error-context scopes.
pub mod glue {}
/// Placeholder: the correlation id of the innermost scope on this thread or task.
pub(crate) fn current_correlation_id() -> Option<String> { None }
