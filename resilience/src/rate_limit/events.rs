//! What a rate limiter reports: a metric per refusal, and at most once a second a WARN and
//! a stream event with the refusals since the last (off the hot path; an admitted call
//! reports nothing). The tracing event and the stream's [`Event`](crate::Event) are given
//! here together, from the same values.

use std::time::Duration;

use super::RateLimited;
use crate::events::{millis, EventKind, Sink};
use crate::metrics::InstanceCounter;

/// A call was refused: counted in the metrics; a WARN and a stream event when `refused`
/// says this refusal is the one a second that is logged (with the refusals since the
/// last), carrying the refused call's `cost` and, for a cost that can never fit, the burst.
#[cold]
pub(super) fn refused(
    events: &Sink,
    counter: &InstanceCounter,
    limited: &RateLimited,
    refused: Option<u64>,
) {
    if let Some(refused) = refused {
        tracing::warn!(
            target: "resilience::rate_limit",
            rate_limiter = limited.name,
            key = limited.key.as_deref(),
            refused,
            retry_after_ms = millis(limited.retry_after),
            cost = limited.cost,
            over_burst = limited.over_burst,
            "rate limit reached; calls refused (`refused`: since the last such warning, at most one a second)"
        );
        events.emit("rate_limit", limited.name, || EventKind::Refused {
            refused,
            retry_after_ms: Some(millis(limited.retry_after)),
        });
    }
    counter.increment();
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
