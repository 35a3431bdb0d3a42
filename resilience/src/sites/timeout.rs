//! What `#[timeout]`'s generated code calls.

use std::time::Duration;

use crate::timeout::TimedOut;

/// Runs `future` for at most `limit` (on tokio's timer, so paused time applies), with
/// its deadline set for the calls inside it (`resilience::deadline::remaining`).
#[cfg(feature = "tokio")]
pub async fn timeout<F: std::future::Future>(limit: Duration, future: F) -> Option<F::Output> {
    let deadline = crate::deadline::after(limit);
    tokio::time::timeout(limit, crate::deadline::within(deadline, future))
        .await
        .ok()
}

/// The error a timed-out call returns.
#[cold]
pub fn timed_out<T, E: From<TimedOut>>(function: &'static str, limit: Duration) -> Result<T, E> {
    tracing::warn!(target: "resilience::timeout", function, limit_ms = limit.as_millis() as u64, "call timed out");
    Err(E::from(TimedOut { function, limit }))
}
