//! What a bulkhead reports: a tracing event and a metric per refusal (off the hot path;
//! an admitted call reports nothing).

use std::time::Duration;

/// A call was refused.
#[cold]
pub(super) fn refused(name: &'static str, key: Option<&str>, waited: Duration) {
    tracing::warn!(
        target: "resilience::bulkhead",
        bulkhead = name,
        key,
        waited_ms = waited.as_millis() as u64,
        "bulkhead full; call refused"
    );
    crate::metrics::bulkhead_rejected(name);
}
