//! What a bulkhead reports: a metric per refusal, and at most once a second a WARN and a
//! stream event with the refusals since the last (off the hot path; an admitted call
//! reports nothing). The tracing event and the stream's [`Event`](crate::Event) are given
//! here together, from the same values.

use std::time::Duration;

use crate::events::{EventKind, Sink};
use crate::metrics::InstanceCounter;

/// A call was refused: counted in the metrics; a WARN and an event when `refused` says
/// this refusal is the one a second that is logged (with the refusals since the last).
#[cold]
pub(super) fn refused(
    events: &Sink,
    counter: &InstanceCounter,
    name: &'static str,
    key: Option<&str>,
    waited: Duration,
    refused: Option<u64>,
) {
    if let Some(refused) = refused {
        tracing::warn!(
            target: "resilience::bulkhead",
            bulkhead = name,
            key,
            refused,
            waited_ms = waited.as_millis() as u64,
            "bulkhead full; calls refused (`refused`: since the last such warning, at most one a second)"
        );
        events.emit("bulkhead", name, || EventKind::Refused {
            refused,
            retry_after_ms: None,
        });
    }
    counter.increment();
}
