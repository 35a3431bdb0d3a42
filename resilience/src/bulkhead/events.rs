//! What a bulkhead reports: a tracing event, a stream event and a metric per refusal
//! (off the hot path; an admitted call reports nothing). The tracing event and the
//! stream's [`Event`](crate::Event) are given here together, from the same values.

use std::time::Duration;

use crate::events::{EventKind, Sink};

/// A call was refused.
#[cold]
pub(super) fn refused(events: &Sink, name: &'static str, key: Option<&str>, waited: Duration) {
    tracing::warn!(
        target: "resilience::bulkhead",
        bulkhead = name,
        key,
        refused = 1u64,
        waited_ms = waited.as_millis() as u64,
        "bulkhead full; call refused"
    );
    events.emit("bulkhead", name, || EventKind::Refused {
        refused: 1,
        retry_after_ms: None,
    });
    crate::metrics::bulkhead_rejected(name);
}
