//! What a rate limiter reports: a tracing event and a metric per refusal (off the hot
//! path; an admitted call reports nothing).

use std::time::Duration;

/// A call was refused.
#[cold]
pub(super) fn refused(name: &'static str, key: Option<&str>, retry_after: Duration) {
    tracing::warn!(
        target: "resilience::rate_limit",
        rate_limiter = name,
        key,
        retry_after_ms = retry_after.as_millis() as u64,
        "rate limit reached; call refused"
    );
    crate::metrics::rate_limited(name);
}

/// A call was admitted after a delay.
#[cold]
pub(super) fn delayed(name: &'static str, key: Option<&str>, delay: Duration) {
    tracing::debug!(
        target: "resilience::rate_limit",
        rate_limiter = name,
        key,
        delay_ms = delay.as_millis() as u64,
        "call delayed to fit the rate"
    );
}
