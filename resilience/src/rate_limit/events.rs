//! What a rate limiter reports: a metric per refusal and a WARN at most once a second
//! (off the hot path; an admitted call reports nothing).

use std::time::Duration;

/// A call was refused: counted in the metrics; a WARN when `refused` says this refusal
/// is the one a second that is logged (with the refusals since the last WARN).
#[cold]
pub(super) fn refused(
    name: &'static str,
    key: Option<&str>,
    retry_after: Duration,
    refused: Option<u64>,
) {
    if let Some(refused) = refused {
        tracing::warn!(
            target: "resilience::rate_limit",
            rate_limiter = name,
            key,
            refused,
            retry_after_ms = retry_after.as_millis() as u64,
            "rate limit reached; calls refused (`refused`: since the last such warning, at most one a second)"
        );
    }
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
