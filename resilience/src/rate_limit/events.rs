//! What a rate limiter reports: a metric per refusal and a WARN at most once a second
//! (off the hot path; an admitted call reports nothing).

use std::time::Duration;

use super::RateLimited;

/// A call was refused: counted in the metrics; a WARN when `refused` says this refusal
/// is the one a second that is logged (with the refusals since the last WARN), carrying
/// the refused call's `cost` and, for a cost that can never fit, the burst.
#[cold]
pub(super) fn refused(limited: &RateLimited, refused: Option<u64>) {
    if let Some(refused) = refused {
        tracing::warn!(
            target: "resilience::rate_limit",
            rate_limiter = limited.name,
            key = limited.key.as_deref(),
            refused,
            retry_after_ms = limited.retry_after.as_millis() as u64,
            cost = limited.cost,
            over_burst = limited.over_burst,
            "rate limit reached; calls refused (`refused`: since the last such warning, at most one a second)"
        );
    }
    crate::metrics::rate_limited(limited.name);
}

/// A call was admitted after a delay.
#[cold]
pub(super) fn delayed(name: &'static str, key: Option<&str>, delay: Duration, cost: u32) {
    tracing::debug!(
        target: "resilience::rate_limit",
        rate_limiter = name,
        key,
        delay_ms = delay.as_millis() as u64,
        cost,
        "call delayed to fit the rate"
    );
}
