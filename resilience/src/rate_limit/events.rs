//! What a rate limiter reports: a metric per refusal, and at most once a second a WARN and
//! a stream event with the refusals since the last (off the hot path; an admitted call
//! reports nothing). The tracing event and the stream's [`Event`](crate::Event) are given
//! here together, from the same values.

use std::time::Duration;

use crate::events::{millis, EventKind, Sink};

/// A call was refused: counted in the metrics; a WARN and an event when `refused` says
/// this refusal is the one a second that is logged (with the refusals since the last).
#[cold]
pub(super) fn refused(
    events: &Sink,
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
            retry_after_ms = millis(retry_after),
            "rate limit reached; calls refused (`refused`: since the last such warning, at most one a second)"
        );
        events.emit("rate_limit", name, || EventKind::Refused {
            refused,
            retry_after_ms: Some(millis(retry_after)),
        });
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
