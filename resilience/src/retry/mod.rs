//! Retry policies: backoff, jitter, elapsed-time limits and shared retry budgets.
pub mod glue {}
/// Placeholder, replaced by the retry module's owner.
#[derive(Clone, Debug, Default)]
pub struct RetryConfig {}
/// Placeholder.
pub fn retry_budget(_name: &str) {}
