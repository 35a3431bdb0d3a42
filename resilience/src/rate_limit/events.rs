//! What a rate limiter reports: a tracing event, a stream event and a metric per refusal
//! (off the hot path; an admitted call reports nothing). The tracing event and the
//! stream's [`Event`](crate::Event) are given here together, from the same values.

use std::time::Duration;

use crate::events::{millis, EventKind, Sink};

/// A call was refused.
#[cold]
pub(super) fn refused(events: &Sink, name: &'static str, key: Option<&str>, retry_after: Duration) {
    tracing::warn!(
        target: "resilience::rate_limit",
        rate_limiter = name,
        key,
        refused = 1u64,
        retry_after_ms = millis(retry_after),
        "rate limit reached; call refused"
    );
    events.emit("rate_limit", name, || EventKind::Refused {
        refused: 1,
        retry_after_ms: Some(millis(retry_after)),
    });
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
